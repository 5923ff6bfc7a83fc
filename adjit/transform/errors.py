"""The error raised for code adjit cannot differentiate.

`TransformError` always points at the user's own source: `filename` and
`lineno` name the offending line, and the message shows it, so the user never
has to read generated code to find out what was refused.
"""


class TransformError(Exception):
    """Unsupported syntax, an undifferentiable call, or a misuse of a value."""

    def __init__(self, message, filename=None, lineno=None, line=None):
        self.filename = filename
        self.lineno = lineno
        self.line = line
        self.reason = message
        text = message
        if filename is not None and lineno is not None:
            text = f"{message}\n  File \"{filename}\", line {lineno}"
            if line:
                text += f"\n    {line.strip()}"
        super().__init__(text)
