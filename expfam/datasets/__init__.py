"""Small data sets shipped with expfam."""

__all__: list[str] = []
