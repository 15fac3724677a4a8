"""Phone numbers to E.164 with phonenumbers, on every core when there are many of them.

phonenumbers is pure Python (about 15 µs a number here): at a million people, parsing the
distinct numbers of the CRM alone takes 8 s on one core while Polars' threads wait. Beyond
PARALLEL_FROM numbers, one part per further core goes to a worker: this module run as a
script over a pipe (`python -m cx_pipeline.lib.e164 <region>`: numbers in, E.164 out, one a
line). It imports nothing but phonenumbers and the standard library, so a worker starts in
~0.05 s; multiprocessing would re-import the parent's main module in it (the CLI or Dagster,
~1 s and ~200 MB).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile

import phonenumbers

from cx_pipeline.lib.cores import usable_cores
from cx_pipeline.paths import venv_executable

# Fewer numbers than this are parsed in this process: a worker (~0.1 s to start and load
# phonenumbers' metadata) would cost about what it saves. Ingestion passes one chunk's distinct
# numbers: 1,000-6,000 at 10,000 people, 45,000-85,000 at 1 M (70,000: 1.04 s -> 0.58 s).
PARALLEL_FROM = 20_000


def to_e164(digits: str, region: str) -> str:
    """E.164 of a `+`-and-digits string read in `region` when it has no country code; a string
    phonenumbers cannot make a plausible number of becomes `+<digits as written>`."""
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return "+" + digits.lstrip("+")
    # is_possible_number (length rules) rather than is_valid_number (allocated ranges): a
    # number written nationally in one source and internationally in another must get the
    # same form even if its range is unknown to this phonenumbers release. A leading zero
    # left after the trunk prefix is only legitimate where the number is valid (Italy).
    plausible = phonenumbers.is_possible_number(number) and not number.italian_leading_zero
    if plausible or phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return "+" + digits.lstrip("+")


def all_to_e164(numbers: list[str], region: str, parallel_from: int = PARALLEL_FROM) -> list[str]:
    """to_e164 of each number, in order."""
    cores = usable_cores()
    if len(numbers) < parallel_from or cores < 2:
        return _part_to_e164(numbers, region)
    size = -(-len(numbers) // cores)
    parts = [numbers[start : start + size] for start in range(0, len(numbers), size)]
    workers = [_Worker(part, region) for part in parts[1:]]
    converted = _part_to_e164(parts[0], region)  # this process takes a part too
    for worker in workers:
        converted += worker.result()
    return converted


def _part_to_e164(numbers: list[str], region: str) -> list[str]:
    return [to_e164(number, region) for number in numbers]


class _Worker:
    """A worker process converting one part while this process converts another."""

    def __init__(self, numbers: list[str], region: str):
        self._count = len(numbers)
        self._errors = tempfile.TemporaryFile("w+", encoding="utf-8")  # a file: a chatty worker cannot block on it
        # the venv's python, not sys.executable: Dagster's code server may run the base interpreter
        self._process = subprocess.Popen(
            [venv_executable("python"), "-m", __name__, region],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors, encoding="utf-8",
        )  # fmt: skip
        # The worker reads every number before it writes anything, so this write finishes as fast
        # as it reads, and needs no thread (which would wait for the GIL at every pipe-full).
        try:
            self._process.stdin.write("\n".join(numbers))
            self._process.stdin.close()
        except BrokenPipeError:  # it died starting up: result() says why
            pass

    def result(self) -> list[str]:
        out = self._process.stdout.read()
        self._process.stdout.close()
        code = self._process.wait()
        converted = out.split("\n") if out else []
        if code != 0 or len(converted) != self._count:
            self._errors.seek(0)
            raise RuntimeError(
                f"phone number worker failed (exit {code}, {len(converted)} of {self._count} numbers "
                f"back): {self._errors.read().strip()[-2000:]}"
            )
        self._errors.close()
        return converted


if __name__ == "__main__":
    sys.stdout.write("\n".join(_part_to_e164(sys.stdin.read().split("\n"), sys.argv[1])))
