package report

import (
	"fmt"
	"strings"

	"github.com/craton-co/craton/errs"
)

// Format is an output format.
type Format string

// The formats every command accepts with --output.
const (
	Table    Format = "table"
	CSV      Format = "csv"
	JSON     Format = "json"
	YAML     Format = "yaml"
	Markdown Format = "markdown"
)

// Formats lists the accepted --output values, in help order.
var Formats = []Format{Table, CSV, JSON, YAML, Markdown}

// ParseFormat validates an --output value. The empty string chooses the
// default: a table for a terminal, CSV (stable, parseable) otherwise.
func ParseFormat(s string, tty bool) (Format, error) {
	if s == "" {
		if tty {
			return Table, nil
		}
		return CSV, nil
	}
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) || (f == Markdown && strings.EqualFold(s, "md")) {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", errs.Usage(fmt.Sprintf("unknown output format %q", s), "use one of: "+strings.Join(names, ", "))
}
