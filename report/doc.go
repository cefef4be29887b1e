// Package report is craton's one renderer: every command's result is a
// slice of one record type, rendered here as a table, CSV, JSON, YAML or
// Markdown. Columns come from the record's `col` struct tags, so a report's
// layout is declared once, next to its data.
//
// It knows nothing of PKCS#11 or of any command; it must not import them.
package report
