package inventory

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/craton-co/craton/errs"
)

// WriteCSV writes inv's records as CSV: one header line with Columns(),
// then one row per record in inventory order. The CSV carries records only;
// token info, mechanisms and warnings are in the JSON/YAML renderings
// (docs/inventory-format.md).
func WriteCSV(w io.Writer, inv *Inventory) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns()); err != nil {
		return fmt.Errorf("write inventory CSV header: %w", err)
	}
	row := make([]string, len(columns))
	for i := range inv.Records {
		for c, col := range columns {
			row[c] = col.get(&inv.Records[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write inventory CSV row %d: %w", i+2, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write inventory CSV: %w", err)
	}
	return nil
}

// ReadCSV reads what WriteCSV wrote. It checks the header and every cell
// and returns an *errs.Error of kind errs.KindInput naming the line and
// column of the first problem. The Inventory it returns has Records only.
func ReadCSV(r io.Reader) (*Inventory, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // counted here, to name the line in our own words
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, inputErr(1, 0, "", "empty input: no header line")
		}
		return nil, csvErr(err)
	}
	if err := checkHeader(header); err != nil {
		return nil, err
	}
	inv := &Inventory{}
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return inv, nil
		}
		if err != nil {
			return nil, csvErr(err)
		}
		rec, err := parseRow(cr, fields)
		if err != nil {
			return nil, err
		}
		inv.Records = append(inv.Records, rec)
	}
}

func checkHeader(header []string) error {
	want := Columns()
	for i := 0; i < len(header) || i < len(want); i++ {
		switch {
		case i >= len(want):
			return inputErr(1, i+1, header[i], fmt.Sprintf("unexpected extra column %q", header[i]))
		case i >= len(header):
			return inputErr(1, i+1, want[i], fmt.Sprintf("header ends after %d columns; missing %q", len(header), want[i]))
		case header[i] != want[i]:
			return inputErr(1, i+1, header[i], fmt.Sprintf("header column %d is %q, want %q", i+1, header[i], want[i]))
		}
	}
	return nil
}

func parseRow(cr *csv.Reader, fields []string) (Record, error) {
	line, _ := cr.FieldPos(0)
	if len(fields) != len(columns) {
		return Record{}, inputErr(line, 0, "", fmt.Sprintf("%d fields, want %d", len(fields), len(columns)))
	}
	var rec Record
	for i, col := range columns {
		if err := col.set(&rec, fields[i]); err != nil {
			l, _ := cr.FieldPos(i)
			return Record{}, inputErr(l, i+1, col.name, err.Error())
		}
	}
	setSize(&rec, rec.Size) // Bits and Bytes are derived, not stored
	return rec, nil
}

func inputErr(line, col int, name, msg string) *errs.Error {
	where := fmt.Sprintf("line %d", line)
	if col > 0 {
		where += fmt.Sprintf(", column %d (%s)", col, name)
	}
	return &errs.Error{Kind: errs.KindInput, Op: "read inventory CSV", Msg: where + ": " + msg,
		Hint: "the file must be an unmodified 'craton migrate inventory --output csv' output (docs/inventory-format.md)"}
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		e := inputErr(pe.Line, pe.Column, "byte", pe.Err.Error())
		e.Err = err
		return e
	}
	return &errs.Error{Kind: errs.KindInput, Op: "read inventory CSV", Msg: err.Error(), Err: err}
}

// joinLinks and splitLinks encode Record.Links in one cell; identities
// never contain ';' (see escapeIdent).
func joinLinks(l []string) string { return strings.Join(l, ";") }

func splitLinks(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ";")
	for _, p := range parts {
		if err := validIdentity(p); err != nil {
			return nil, err
		}
	}
	return parts, nil
}
