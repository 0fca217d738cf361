"""Where the commands look when a flag is not given: ``MET2RDF_STORE`` and ``met2rdf.toml``.

Precedence: a flag, then the environment variable (the store only), then ``met2rdf.toml``,
then the built-in default.  A ``met2rdf.toml`` holds any of::

    out = "build"              # build's output folder (default: out)
    store = "build/store"      # the store commands read and build loads (default: OUT/store)
    vocab = ["extra.ttl"]      # extra vocabulary files for build, push, export and eval

Its paths are relative to the folder it is in.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import SettingsError

SETTINGS_FILE = "met2rdf.toml"
STORE_VARIABLE = "MET2RDF_STORE"
_AT = re.compile(r"\s*\(at line (\d+), column \d+\)$")


@dataclass(frozen=True, slots=True)
class Settings:
    """The defaults a met2rdf.toml gives (``path``: the file, None when there is none)."""

    path: Path | None = None
    out: Path | None = None
    store: Path | None = None
    vocab: tuple[Path, ...] = ()


def find_settings(folders: Iterable[Path]) -> Settings:
    """Read the met2rdf.toml of the first of the folders that has one."""
    for folder in folders:
        path = folder / SETTINGS_FILE
        if path.is_file():
            return read_settings(path)
    return Settings()


def read_settings(path: Path) -> Settings:
    """Read a met2rdf.toml; raise SettingsError naming path:line for what it cannot use."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}:1: cannot read it ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        line = _AT.search(text)
        raise SettingsError(f"{path}:{line[1] if line else 1}: not TOML: {_AT.sub('', text)} "
                            '(write key = "value")') from exc
    unknown = sorted(set(data) - {"out", "store", "vocab"})
    if unknown:
        raise SettingsError(f"{path}:{_line_of(path, unknown[0])}: unknown key {unknown[0]!r} "
                            "(known: out, store, vocab)")
    folder = path.parent
    vocab = data.get("vocab", [])
    if isinstance(vocab, str):
        vocab = [vocab]
    for key, value in (("out", data.get("out", "")), ("store", data.get("store", "")),
                       *(("vocab", v) for v in vocab)):
        if not isinstance(value, str):
            raise SettingsError(f"{path}:{_line_of(path, key)}: {key} must be a path in quotes "
                                f'({key} = "...")')
    return Settings(path, _beside(folder, data.get("out")), _beside(folder, data.get("store")),
                    tuple(_beside(folder, v) or folder for v in vocab))


def _beside(folder: Path, value: str | None) -> Path | None:
    """Return a path of the file relative to its folder, without ``x/..`` steps."""
    return Path(os.path.normpath(folder / value)) if value else None


def _line_of(path: Path, key: str) -> int:
    """Return the line where a top-level key is set (1 when it cannot be found)."""
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if pattern.match(line):
            return number
    return 1


def default_store(settings: Settings, environ: Mapping[str, str]) -> Path | None:
    """Return the store to use when no flag names one: $MET2RDF_STORE, else the settings'
    store, else their out's store, else None."""
    if environ.get(STORE_VARIABLE):
        return Path(environ[STORE_VARIABLE])
    if settings.store is not None:
        return settings.store
    return settings.out / "store" if settings.out is not None else None
