package audit

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"strconv"
)

// The head file, <log>.head, closes the gap Craton's format leaves at the
// end of the chain: each line's payload is committed to by the next line's
// previous_hash, so nothing commits to the last line, and whole lines
// removed from the end leave a valid chain. After every durable append the
// log overwrites the head with the entry count and the chain value after
// the last entry; Verify checks both. It is not fsynced (the log line is,
// before it): after a crash the head may lag behind the log, which Verify
// accepts (it then protects a prefix), but it can never be ahead of it.
//
// Like the chain itself it has no key: it catches accidents and edits that
// do not also rewrite the head. A log without a head (Craton's, or one whose
// head was deleted) still verifies, with a warning. Move or copy the head
// with its log.
//
// Format: one fixed-length ASCII line, rewritten in place,
//
//	craton-audit-head v1 entries=<20 digits> hash=<64 hex> crc=<8 hex>\n
//
// where crc is the CRC-32 (IEEE) of everything before " crc=". A torn or
// edited head fails the CRC and is reported as corrupt (a warning).
const headSuffix = ".head"

const (
	headPrefix = "craton-audit-head v1 entries="
	headLen    = len(headPrefix) + 20 + len(" hash=") + 64 + len(" crc=") + 8 + 1
)

// headInfo is a decoded head file.
type headInfo struct {
	entries int
	hash    Hash
}

func formatHead(h headInfo) []byte {
	body := fmt.Sprintf("%s%020d hash=%s", headPrefix, h.entries, hex.EncodeToString(h.hash[:]))
	return fmt.Appendf(nil, "%s crc=%08x\n", body, crc32.ChecksumIEEE([]byte(body)))
}

func parseHead(data []byte) (headInfo, error) {
	if len(data) != headLen {
		return headInfo{}, fmt.Errorf("head file is %d bytes, want %d", len(data), headLen)
	}
	s := string(data)
	bodyEnd := headLen - len(" crc=") - 8 - 1
	body := s[:bodyEnd]
	if s[bodyEnd:bodyEnd+5] != " crc=" || s[headLen-1] != '\n' {
		return headInfo{}, errors.New("head file is malformed")
	}
	crc, err := strconv.ParseUint(s[bodyEnd+5:headLen-1], 16, 32)
	if err != nil || uint32(crc) != crc32.ChecksumIEEE([]byte(body)) {
		return headInfo{}, errors.New("head file checksum does not match (torn write or edit)")
	}
	if body[:len(headPrefix)] != headPrefix {
		return headInfo{}, errors.New("head file is not a v1 head")
	}
	rest := body[len(headPrefix):]
	n, err := strconv.ParseUint(rest[:20], 10, 62)
	if err != nil || rest[20:26] != " hash=" {
		return headInfo{}, errors.New("head file is malformed")
	}
	var h headInfo
	h.entries = int(n)
	if _, err := hex.Decode(h.hash[:], []byte(rest[26:])); err != nil {
		return headInfo{}, fmt.Errorf("head file hash: %w", err)
	}
	return h, nil
}

// headState is what Verify found in the head file.
type headState struct {
	present bool
	info    headInfo
	problem string // non-empty: unreadable or corrupt, ignored
}

// readHead reads <logPath>.head; a missing file is not an error.
func readHead(logPath string) headState {
	p := logPath + headSuffix
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return headState{}
	case err != nil:
		return headState{problem: fmt.Sprintf("cannot read %s: %v", p, err)}
	case !fi.Mode().IsRegular():
		return headState{problem: p + " is not a regular file"}
	case fi.Size() == 0:
		return headState{} // created, never written
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return headState{problem: fmt.Sprintf("cannot read %s: %v", p, err)}
	}
	h, err := parseHead(data)
	if err != nil {
		return headState{problem: p + ": " + err.Error()}
	}
	return headState{present: true, info: h}
}
