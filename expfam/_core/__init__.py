"""The internal foundation every subpackage may use (nothing here is public API).

- :mod:`expfam._core.args`: the one set of argument rules and the error style
  ``"name: expected ..., got ..."``;
- :mod:`expfam._core.exceptions`: the warning and error classes
  (public path: :mod:`expfam.exceptions`);
- :mod:`expfam._core.threads`: the thread pool and its size;
- :mod:`expfam._core.dd`: double-double arithmetic (error-free transformations).

It imports nothing from the rest of expfam: it is the lowest layer.
"""
