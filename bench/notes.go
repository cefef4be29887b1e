package main

// notesText closes docs/benchmarks.md: what the profiles showed, what was
// fixed (with before/after), and what misses its target and why. It is
// written by hand and kept here so that `make bench` reproduces the whole
// document.
const notesText = `## 7. Findings, fixes and misses

(to be written)
`
