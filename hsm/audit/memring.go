package audit

// memRing holds the newest entries of an in-memory log (at most limit
// encoded lines) in large byte chunks, indexed by offsets. There is no
// pointer per entry: the garbage collector marks a few dozen chunks instead
// of 100,000 separately allocated lines on every cycle (with the ring full,
// that marking made an in-memory Append cost 3-10 us instead of ~1 us), and
// Append copies each line into a chunk instead of allocating it.
type memRing struct {
	limit  int
	refs   []memRef // ring; once full, refs[at] is the oldest entry
	at     int
	chunks [][]byte // chunks[i] is chunk number base+i
	base   uint64
}

// memRef locates one line: chunk number and the line's bytes in it.
type memRef struct {
	chunk  uint64
	off, n uint32
}

// memChunk is the size of a chunk (a longer line gets a chunk of its own).
const memChunk = 256 << 10

func (r *memRing) len() int { return len(r.refs) }

// add copies line into the ring, dropping the oldest entry once it holds
// limit, and the chunks no kept entry uses.
func (r *memRing) add(line []byte) {
	if r.limit <= 0 {
		return
	}
	last := len(r.chunks) - 1
	if last < 0 || cap(r.chunks[last])-len(r.chunks[last]) < len(line) {
		r.chunks = append(r.chunks, make([]byte, 0, max(memChunk, len(line))))
		last++
	}
	ref := memRef{chunk: r.base + uint64(last), off: uint32(len(r.chunks[last])), n: uint32(len(line))}
	r.chunks[last] = append(r.chunks[last], line...)
	if len(r.refs) < r.limit {
		r.refs = append(r.refs, ref)
		return
	}
	r.refs[r.at] = ref
	r.at = (r.at + 1) % r.limit
	for oldest := r.refs[r.at].chunk; r.base < oldest; r.base++ {
		r.chunks[0] = nil
		r.chunks = r.chunks[1:]
	}
}

// each calls fn with every kept line, oldest first; fn must not keep it.
func (r *memRing) each(fn func(line []byte)) {
	for _, part := range [][]memRef{r.refs[r.at:], r.refs[:r.at]} {
		for _, ref := range part {
			c := r.chunks[ref.chunk-r.base]
			fn(c[ref.off : ref.off+ref.n : ref.off+ref.n])
		}
	}
}
