"""Writes resources/chime.wav: the display's two-note "ding-dong" before each call."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050


def note(freq: float, seconds: float) -> list[int]:
    n = int(RATE * seconds)
    return [
        int(
            12000
            * math.exp(-3.5 * i / n)
            * (
                math.sin(2 * math.pi * freq * i / RATE)
                + 0.3 * math.sin(4 * math.pi * freq * i / RATE)
            )
        )
        for i in range(n)
    ]


def main() -> None:
    samples = note(784.0, 0.45) + note(587.3, 0.7)  # G5 then D5
    out = Path(__file__).resolve().parent.parent / "resources" / "chime.wav"
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, s))) for s in samples))
    print(out)


if __name__ == "__main__":
    main()
