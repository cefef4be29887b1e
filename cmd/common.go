package cmd

import "github.com/craton-co/craton/report"

// reportOf is a plain report: a title and rows of one record type.
func reportOf(title string, rows any) report.Report {
	return report.Report{Title: title, Rows: rows}
}
