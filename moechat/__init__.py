"""moechat: an inference engine and terminal chat for OpenAI's gpt-oss MoE models."""

__version__ = "0.1.0"
