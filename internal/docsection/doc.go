// Package docsection keeps a generated section of a Markdown document equal
// to what a test computes: the text between two marker lines. Tests call
// Check; CRATON_UPDATE_DOCS=1 rewrites the section instead of failing.
// It touches only the document it is given.
package docsection
