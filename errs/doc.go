// Package errs holds craton's typed error and the one table that maps error
// kinds to process exit codes (docs/exit-codes.md is tested against it).
//
// Every package returns *errs.Error (or wraps one with %w) for failures an
// operator must act on, so that cmd/ can print the problem, the fix and exit
// with the documented code. It must not import anything of this project but ck.
package errs
