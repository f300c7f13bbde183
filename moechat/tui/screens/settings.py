"""Per-session settings (developer instructions, reasoning effort, temperature, top-p, max tokens), with
the engine choice shown read-only beside them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from moechat.tui.config import EngineChoice
from moechat.tui.store import REASONING_EFFORTS, SessionSettings


class SettingsScreen(ModalScreen["SessionSettings | None"]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, settings: SessionSettings, engine: EngineChoice, config_file: str, title: str) -> None:
        super().__init__(classes="dialog-screen")
        self.settings = settings
        self.engine = engine
        self.config_file = config_file
        self.session_title = title

    def compose(self) -> ComposeResult:
        s = self.settings
        with Vertical(classes="dialog settings"):
            yield Label(f"Settings · {self.session_title}", classes="question")
            with VerticalScroll():
                yield Label("Developer instructions")
                yield TextArea(s.instructions, id="instructions", soft_wrap=True)
                with Horizontal(classes="row"):
                    with Vertical():
                        yield Label("Reasoning effort")
                        yield Select([(e, e) for e in REASONING_EFFORTS], value=s.reasoning, allow_blank=False,
                                     id="reasoning")
                    with Vertical():
                        yield Label("Max tokens")
                        yield Input(str(s.max_tokens), id="max_tokens", type="integer")
                with Horizontal(classes="row"):
                    with Vertical():
                        yield Label("Temperature (0 = greedy)")
                        yield Input(f"{s.temperature:g}", id="temperature", type="number")
                    with Vertical():
                        yield Label("Top-p")
                        yield Input(f"{s.top_p:g}", id="top_p", type="number")
                yield Static(
                    f"Engine: {self.engine.describe()}\nChange it with moechat --model/--device/--dtype/--kv-cache-gb;"
                    f" saved in {self.config_file}",
                    id="engine-info", classes="hint",
                )
            yield Static("", id="settings-error")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        try:
            settings = SessionSettings(
                instructions=self.query_one("#instructions", TextArea).text.strip(),
                reasoning=str(self.query_one("#reasoning", Select).value),
                temperature=float(self.query_one("#temperature", Input).value),
                top_p=float(self.query_one("#top_p", Input).value),
                max_tokens=int(self.query_one("#max_tokens", Input).value),
            )
            settings.validate()
        except ValueError as e:
            msg = str(e) if "must" in str(e) else "temperature, top-p and max tokens must be numbers"
            self.query_one("#settings-error", Static).update(msg)
            return
        self.dismiss(settings)

    def action_cancel(self) -> None:
        self.dismiss(None)
