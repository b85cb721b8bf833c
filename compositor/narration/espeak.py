"""libespeak-ng through ctypes, in synchronous mode, with word events.

eSpeak NG's C API (``speak_lib.h``) is driven directly rather than through the ``espeak-ng``
program: the synth callback hands over the samples together with WORD events carrying each
word's character position and its sample offset in the output, which the program cannot
report. Synchronous mode (``AUDIO_OUTPUT_SYNCHRONOUS``) runs synthesis on the calling thread,
so no audio device and no eSpeak thread are involved.

The library keeps global state (current voice, parameters, the one callback, the pitch
flutter phase), so every synthesis holds ``_LOCK`` and, when it can, runs in a freshly
loaded private copy of the library (see ``ESpeak``). Library search order: the
``espeak_library`` setting, the ``espeakng-loader`` wheel (library and data shipped in the
wheel), then a system
``libespeak-ng`` found by the dynamic loader (with its compiled-in data path).
"""

from __future__ import annotations

import _ctypes
import contextlib
import ctypes
import ctypes.util
import functools
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from compositor.errors import NarrationError

# speak_lib.h constants
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000  # return an error instead of exit() when data is missing
CHARS_UTF8 = 1
POS_CHARACTER = 1
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EE_OK = 0
PARAM_RATE = 1
RATE_WPM = 175  # eSpeak's default, set explicitly so every build speaks at the same pace

_LOCK = threading.Lock()


class _EventId(ctypes.Union):
    _fields_ = (("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8))


class _Event(ctypes.Structure):
    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters of the text given
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),  # sample offset of the event in the output
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class WordEvent:
    char_index: int  # 0-based code-point offset into the text
    length: int
    sample: int


@dataclass(frozen=True)
class Synthesis:
    samples: np.ndarray  # int16 mono
    words: tuple[WordEvent, ...]
    complete: bool  # False when stopped at max_samples
    # (characters, samples) up to the start of the last word heard: the text-to-audio ratio
    # that estimates a stopped script's whole length.
    progress: tuple[int, int]


@dataclass
class _Collector:
    max_samples: int | None
    chunks: list[np.ndarray] = field(default_factory=list)
    words: list[WordEvent] = field(default_factory=list)
    count: int = 0
    aborted: bool = False


class _Instance:
    """One loaded, initialized copy of the library, with our synth callback installed."""

    def __init__(self, lib: ctypes.CDLL, data_dir: str | None) -> None:
        self.lib = lib
        _declare(lib)
        path = data_dir.encode() if data_dir else None
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, path, INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise NarrationError(f"eSpeak NG could not start (data folder {data_dir or 'default'})")
        self.sample_rate = int(rate)
        self.collector: _Collector | None = None
        self.callback = _Callback(self._on_synth)  # kept referenced: C holds the pointer
        lib.espeak_SetSynthCallback(self.callback)

    def _on_synth(self, wav: Any, count: int, events: Any) -> int:
        collector = self.collector
        if collector is None:
            return 1
        if count > 0 and wav:
            collector.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
            collector.count += count
        index = 0
        while events[index].type != EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == EVENT_WORD:
                collector.words.append(
                    WordEvent(max(event.text_position - 1, 0), event.length, event.sample)
                )
            index += 1
        if collector.max_samples is not None and collector.count > collector.max_samples:
            collector.aborted = True
            return 1  # eSpeak stops synthesis when the callback returns 1
        return 0

    def close(self) -> None:
        self.lib.espeak_Terminate()  # frees the voice data eSpeak allocated


def _declare(lib: ctypes.CDLL) -> None:
    lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = (_Callback,)
    lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
    lib.espeak_Synth.argtypes = (
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    )
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Terminate.restype = ctypes.c_int
    if hasattr(lib, "espeak_ng_SetRandSeed"):
        lib.espeak_ng_SetRandSeed.argtypes = (ctypes.c_long,)


class ESpeak:
    """libespeak-ng at ``library`` with its data, synthesizing from a fresh state each time.

    eSpeak keeps state between utterances inside the library (the phase of its pitch
    "flutter", automatic gain), so the same text synthesized twice in one process differs
    by up to ~20 ms in word positions. When the library is a file, every synthesis loads a
    private copy of it (a distinct file, so the dynamic loader maps new statics), initializes
    it, and terminates and unloads it after: ~3 ms, and the same input gives the same
    samples and timings every time. A library known only by its soname (the system fallback)
    is loaded once and reused, so its output varies by those few milliseconds.
    """

    def __init__(self, library: str, data_dir: str | None) -> None:
        self.library = library
        self.data_dir = data_dir
        self._private = Path(library).is_file()
        self._shared: _Instance | None = None
        with _LOCK, self._instance() as probe:
            self.sample_rate = probe.sample_rate

    @contextlib.contextmanager
    def _instance(self) -> Iterator[_Instance]:
        if not self._private:
            if self._shared is None:
                self._shared = _Instance(_load(self.library), self.data_dir)
            yield self._shared
            return
        with tempfile.TemporaryDirectory(prefix="neariq-espeak-") as folder:
            copy = Path(folder) / "libespeak-ng.so"
            shutil.copyfile(self.library, copy)
            lib = _load(str(copy))  # mapped now: the file can go with its folder
        instance = None
        try:
            instance = _Instance(lib, self.data_dir)
            yield instance
        finally:
            if instance is not None:
                instance.close()
            _ctypes.dlclose(lib._handle)  # ctypes has no public unload

    def synthesize(self, text: str, voice: str, *, max_samples: int | None = None) -> Synthesis:
        data = text.encode("utf-8")
        collector = _Collector(max_samples)
        with _LOCK, self._instance() as instance:
            lib = instance.lib
            if lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
                raise NarrationError(f"eSpeak NG has no voice {voice!r}", field="audio.voice")
            lib.espeak_SetParameter(PARAM_RATE, RATE_WPM, 0)
            if hasattr(lib, "espeak_ng_SetRandSeed"):
                lib.espeak_ng_SetRandSeed(1)  # breathy variants draw noise from eSpeak's RNG
            instance.collector = collector
            try:
                status = lib.espeak_Synth(
                    data, len(data) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8, None, None
                )
            finally:
                instance.collector = None
        if status != EE_OK and not collector.aborted:
            raise NarrationError(f"eSpeak NG synthesis failed (status {status})")
        samples = (
            np.concatenate(collector.chunks) if collector.chunks else np.zeros(0, dtype=np.int16)
        )
        # Events arrive ahead of their audio: only words whose first sample was delivered count.
        heard = [w for w in collector.words if w.sample < len(samples)]
        progress = (heard[-1].char_index, heard[-1].sample) if heard else (0, 0)
        return Synthesis(
            samples=samples,
            words=tuple(collector.words),
            complete=not collector.aborted,
            progress=(len(text), len(samples)) if not collector.aborted else progress,
        )


def _load(library: str) -> ctypes.CDLL:
    try:
        return ctypes.CDLL(library)
    except OSError as exc:
        raise NarrationError(f"eSpeak NG library {library} cannot be loaded: {exc}") from None


def library_candidates(library: str | None, data_dir: Path | None) -> list[tuple[str, str | None]]:
    """(library, data folder) pairs to try, in order."""
    if library:
        return [(library, str(data_dir) if data_dir else None)]
    found: list[tuple[str, str | None]] = []
    try:
        import espeakng_loader  # ships libespeak-ng and espeak-ng-data in the wheel

        found.append((espeakng_loader.get_library_path(), espeakng_loader.get_data_path()))
    except (ImportError, RuntimeError):
        pass
    system = ctypes.util.find_library("espeak-ng")
    if system:
        found.append((system, str(data_dir) if data_dir else None))
    return found


@functools.cache
def load_espeak(library: str | None = None, data_dir: Path | None = None) -> ESpeak:
    """The first candidate that loads and initializes (once per process)."""
    reasons = []
    for path, data in library_candidates(library, data_dir):
        try:
            return ESpeak(path, data)
        except NarrationError as exc:
            reasons.append(exc.message)
    raise NarrationError(
        "no usable eSpeak NG: " + ("; ".join(reasons) or "install espeakng-loader or espeak-ng"),
        field="audio.narrationEngine",
    )
