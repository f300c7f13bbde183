"""The chat screen's widgets: session list, transcript (message views), composer, status bar."""
