"""The one exception type the CLI turns into a one-line message and a non-zero exit."""


class MoechatError(Exception):
    """A user-facing error: bad input, missing files, unknown model. Its message is one line."""
