"""Registry of surrogate shape names, light enough for planning (imports neither torch nor numpy).

A shape is a function ``fn(x, beta) -> σ′_norm(x; β)``: the *normalized* surrogate derivative
(peak σ′(0) = 1) of the distance to threshold x = U − ϑ, elementwise on a torch tensor, for a
steepness β given as a float or as a tensor broadcastable against x (the asymptotic form
β · σ′_norm is formed by the caller). The built-in shapes are defined in
:mod:`surrogate_study.model.surrogates`; other packages add shapes through the entry-point group
:data:`ENTRY_POINT_GROUP`, e.g. in their ``pyproject.toml``::

    [project.entry-points."surrogate_study.surrogates"]
    my_shape = "my_package.module:my_shape"

Names are known from the installed distributions' metadata without importing anything, so that
validating a config (and planning the workflow) stays light; a plugin's module is imported the
first time its derivative is needed (:func:`load_shape`). A plugin name that equals a built-in
name is an error, as is an entry point that cannot be loaded or is not callable.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Callable, Iterable

#: Entry-point group in which external packages register surrogate shapes.
ENTRY_POINT_GROUP = "surrogate_study.surrogates"

#: The shapes of :mod:`surrogate_study.model.surrogates`, in the order the figures show them.
#: The module that defines the built-in shapes; loaded by name on first use, as a plug-in's entry point is (this
#: registry stays free of torch, and the model layer depends on it, not the other way round).
BUILTIN_MODULE = "surrogate_study.model.surrogates"
BUILTIN_SHAPES: tuple[str, ...] = ("superspike", "sigmoid", "esser", "constant", "true")
#: The controls among them (straight-through and the true gradient); every other shape is a surrogate gradient.
CONTROL_SHAPES: tuple[str, ...] = ("constant", "true")

# name -> derivative; filled by surrogates.register_surrogate and by load_shape (plugins, cached)
_REGISTERED: dict[str, Callable[..., Any]] = {}
_LOADED_FROM_PLUGINS: set[str] = set()
_PLUGINS: dict[str, EntryPoint] | None = None  # entry points found by the last scan


class ShapeError(ValueError):
    """An unknown shape name, a duplicate name, or a plugin that cannot be loaded (one line)."""


def plugin_entry_points() -> dict[str, EntryPoint]:
    """Entry points of group :data:`ENTRY_POINT_GROUP` of the installed distributions, by name.

    Read from the distributions' metadata (nothing is imported) once per process; after installing
    a plugin into a running process call :func:`refresh_plugins`.
    """
    global _PLUGINS
    if _PLUGINS is None:
        _PLUGINS = _scan_entry_points()
    return dict(_PLUGINS)


def refresh_plugins() -> None:
    """Forget the plugins found so far (and the functions loaded from them); the next lookup scans again."""
    global _PLUGINS
    for name in _LOADED_FROM_PLUGINS:
        _REGISTERED.pop(name, None)
    _LOADED_FROM_PLUGINS.clear()
    _PLUGINS = None


def _scan_entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in BUILTIN_SHAPES:
            raise ShapeError(f"surrogate plugin {point.name!r} ({point.value}) has the name of a built-in shape; "
                             f"built-in: {', '.join(BUILTIN_SHAPES)}")
        found.setdefault(point.name, point)  # the first distribution on sys.path wins, as for imports
    return found


def surrogate_names() -> tuple[str, ...]:
    """Names of all shapes: built-in, registered at run time, then plugins (sorted), without importing them."""
    names = list(BUILTIN_SHAPES)
    names += [name for name in _REGISTERED if name not in names]
    names += sorted(name for name in plugin_entry_points() if name not in names)
    return tuple(names)


def display_order(names: Iterable[str]) -> list[str]:
    """``names`` in the order of figures, tables and claims: the built-in surrogate-gradient shapes, then
    any other shape (plugins, sorted by name), then the controls."""
    names = set(names)
    builtin_sg = [n for n in BUILTIN_SHAPES if n not in CONTROL_SHAPES and n in names]
    controls = [n for n in CONTROL_SHAPES if n in names]
    return builtin_sg + sorted(names - set(builtin_sg) - set(controls)) + controls


def register_shape(name: str, fn: Callable[..., Any]) -> None:
    """Register the normalized derivative ``fn(x, beta)`` under ``name`` (in this process)."""
    if name in _REGISTERED:
        raise ShapeError(f"surrogate shape {name!r} is already registered")
    _REGISTERED[name] = fn


def unregister_shape(name: str) -> None:
    """Forget a shape registered at run time with :func:`register_shape` (tests register throwaway shapes)."""
    if name in BUILTIN_SHAPES:
        raise ShapeError(f"surrogate shape {name!r} is built in and cannot be unregistered")
    _REGISTERED.pop(name, None)
    _LOADED_FROM_PLUGINS.discard(name)


def load_shape(name: str) -> Callable[..., Any]:
    """The derivative registered under ``name``; a plugin's entry point is loaded (once) here."""
    if name in BUILTIN_SHAPES and name not in _REGISTERED:
        import_module(BUILTIN_MODULE)  # defines and registers the built-in shapes (imports torch)
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in BUILTIN_SHAPES:
        point = plugin_entry_points().get(name)
        if point is not None:
            try:
                fn = point.load()
            except Exception as error:  # noqa: BLE001 - any import error of a plugin, reported in one line
                raise ShapeError(f"surrogate plugin {name!r}: entry point {point.value!r} cannot be loaded "
                                 f"({type(error).__name__}: {error})") from None
            if not callable(fn):
                raise ShapeError(f"surrogate plugin {name!r}: entry point {point.value!r} is "
                                 f"{type(fn).__name__}, not a function fn(x, beta)")
            _REGISTERED[name] = fn
            _LOADED_FROM_PLUGINS.add(name)
            return fn
    raise ShapeError(f"unknown surrogate shape {name!r}; allowed: {', '.join(surrogate_names())}")
