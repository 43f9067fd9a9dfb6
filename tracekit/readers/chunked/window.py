"""A window on the content of a trace, read in order into one reused buffer.

Fresh memory costs page faults (on a VM, as much as the decode itself), so the content is read into
one buffer that is reused: consumed bytes are dropped by moving the unread rest to the front.
A chunk of events is decoded in place: the byte before it (the array's `[`, or the separator after
the previous chunk) becomes `[` and the byte after it becomes `]`, so no copy is made.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from tracekit.readers.source import GZIP_MAGIC, UTF8_BOM, content_blocks, require_file

BLOCK_BYTES = 4 << 20
READ_AHEAD = 1 << 20


class Content:
    """The (decompressed) content of a file, read into a caller's buffer; a plain file is read with
    `readinto`, a .gz inflated block by block (source.content_blocks, with its guards)."""

    def __init__(self, path: Path) -> None:
        require_file(path)
        self.file = path.open("rb")
        self.gzipped = self.file.read(2) == GZIP_MAGIC
        self.file.seek(0)
        self.skip = 0  # bytes of the file before the content (a byte order mark)
        self.blocks: Iterator[bytes] | None = None
        self.pending = memoryview(b"")
        if self.gzipped:
            self.file.close()
            self.blocks = content_blocks(path, BLOCK_BYTES)
        elif self.file.read(len(UTF8_BOM)) == UTF8_BOM:
            self.skip = len(UTF8_BOM)
        else:
            self.file.seek(0)

    def read_into(self, view: memoryview) -> int:
        """Fill the start of `view`; the number of bytes read, 0 at the end."""
        if self.blocks is None:
            return self.file.readinto(view) or 0
        while not len(self.pending):
            block = next(self.blocks, None)
            if block is None:
                return 0
            self.pending = memoryview(block)
        n = min(len(view), len(self.pending))
        view[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

    def remaining(self) -> int | None:
        """Bytes of a plain file not read yet; None for a .gz (its content size is not known)."""
        if self.blocks is not None:
            return None
        return os.fstat(self.file.fileno()).st_size - self.file.tell()

    def pass_over(self, size: int) -> None:
        """Go past `size` bytes of a plain file without reading them."""
        self.file.seek(size, os.SEEK_CUR)

    def close(self) -> None:
        self.file.close()
        self.blocks = None


class Window:
    """The unread bytes of the content, `buffer[low:high]`, starting at content offset `offset`."""

    def __init__(self, content: Content, capacity: int) -> None:
        self.content = content
        self.buffer = bytearray(capacity)
        self.low = self.high = 1  # one byte is kept before the window, for a chunk's `[`
        self.offset = 0
        self.eof = False

    def __len__(self) -> int:
        return self.high - self.low

    def view(self) -> memoryview:
        """The unread bytes (release the view before the next `fill`)."""
        return memoryview(self.buffer)[self.low : self.high]

    def bytes(self, start: int = 0, stop: int | None = None) -> bytes:
        """A copy of unread bytes [start, stop)."""
        stop = len(self) if stop is None else stop
        return bytes(self.buffer[self.low + start : self.low + stop])

    def fill(self, size: int) -> bool:
        """Read until `size` bytes are unread; False at the end of the content."""
        if len(self) >= size:
            return True
        self._make_room(size)
        while len(self) < size:
            stop = min(len(self.buffer), self.low + size + READ_AHEAD)  # little left over to move
            with memoryview(self.buffer) as whole:
                n = self.content.read_into(whole[self.high : stop])
            if n == 0:
                self.eof = True
                return False
            self.high += n
        return True

    def consume(self, size: int) -> None:
        """Drop the first `size` unread bytes."""
        self.low += size
        self.offset += size

    def skip(self, size: int, keep: int) -> bool:
        """Drop the first `size` unread bytes, those not read yet left unread in the file (a plain file
        holding at least `keep` more bytes after them); False, and nothing dropped, otherwise."""
        remaining = self.content.remaining()
        unread = len(self)
        if remaining is None or size < unread or remaining - (size - unread) < keep:
            return False
        self.content.pass_over(size - unread)
        self.low = self.high = 1
        self.offset += size
        return True

    def chunk_text(self, end: int) -> memoryview:
        """The unread bytes [0, end) between brackets, in place (release it when decoded)."""
        if self.low + end >= len(self.buffer):
            self._make_room(end + 1)
        self.buffer[self.low - 1] = ord("[")
        self.buffer[self.low + end] = ord("]")
        return memoryview(self.buffer)[self.low - 1 : self.low + end + 1]

    def _make_room(self, size: int) -> None:
        """Move the unread bytes to the front (keeping one byte before them) and grow the buffer
        when `size` bytes would not fit."""
        unread = len(self)
        if size + 1 > len(self.buffer):
            grown = bytearray(max(size + 1, 2 * len(self.buffer)))  # a new buffer: views may hold the old
            grown[1 : 1 + unread] = self.buffer[self.low : self.high]
            self.buffer = grown
        elif self.low > 1:
            self.buffer[1 : 1 + unread] = self.buffer[self.low : self.high]
        self.low, self.high = 1, 1 + unread
