package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"gopkg.in/yaml.v3"
)

// Report is what a command hands to Render.
type Report struct {
	Title string // Markdown heading; also shown above a table
	Rows  any    // a slice of one record type; columns from `col` tags
	// Data is the document for JSON and YAML; nil means Rows. Use it to
	// carry more than the rows (token info, a summary).
	Data any
	// Markdown, when set, replaces the default Markdown table (e.g. a
	// checklist or a runbook).
	Markdown func(io.Writer) error
	// YAML, when set, replaces the default YAML (a file format with its
	// own schema and reader, such as the migration plan).
	YAML func(io.Writer) error
	// CSV, when set, replaces the default CSV (a documented file format
	// with its own reader, such as the inventory).
	CSV func(io.Writer) error
	// TableColumns, when set, limits the terminal table to these columns;
	// CSV, JSON and YAML always carry every field.
	TableColumns []string
}

// Render writes r to w in format f.
func Render(w io.Writer, f Format, r Report) error {
	switch f {
	case JSON:
		return renderJSON(w, r.doc())
	case YAML:
		if r.YAML != nil {
			return r.YAML(w)
		}
		return renderYAML(w, r.doc())
	case Markdown:
		if r.Markdown != nil {
			return r.Markdown(w)
		}
		return renderMarkdown(w, r)
	}
	if f == CSV && r.CSV != nil {
		return r.CSV(w)
	}
	header, rows, err := rowsOf(r.Rows)
	if err != nil {
		return err
	}
	if f == CSV {
		return WriteCSV(w, header, rows)
	}
	header, rows = project(header, rows, r.TableColumns)
	return renderTable(w, r.Title, header, rows)
}

// project keeps only the named columns, in the order named.
func project(header []string, rows [][]string, keep []string) ([]string, [][]string) {
	if len(keep) == 0 {
		return header, rows
	}
	idx := make([]int, 0, len(keep))
	for _, k := range keep {
		for i, h := range header {
			if h == k {
				idx = append(idx, i)
			}
		}
	}
	pick := func(cells []string) []string {
		out := make([]string, len(idx))
		for j, i := range idx {
			out[j] = cells[i]
		}
		return out
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = pick(r)
	}
	return pick(header), out
}

func (r Report) doc() any {
	if r.Data != nil {
		return r.Data
	}
	return r.Rows
}

func renderJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func renderYAML(w io.Writer, v any) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return enc.Close()
}

// WriteCSV writes an RFC 4180 CSV with a header line.
func WriteCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

func renderTable(w io.Writer, title string, header []string, rows [][]string) error {
	if title != "" {
		fmt.Fprintln(w, title)
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(upper(header))
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

func upper(h []string) []string {
	out := make([]string, len(h))
	for i, s := range h {
		out[i] = strings.ToUpper(s)
	}
	return out
}

func renderMarkdown(w io.Writer, r Report) error {
	header, rows, err := rowsOf(r.Rows)
	if err != nil {
		return err
	}
	if r.Title != "" {
		fmt.Fprintf(w, "# %s\n\n", r.Title)
	}
	MarkdownTable(w, header, rows)
	return nil
}

// MarkdownTable writes a GitHub-flavoured Markdown table, escaping cells.
func MarkdownTable(w io.Writer, header []string, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(escapeAll(header), " | "))
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(seps, " | "))
	for _, row := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(escapeAll(row), " | "))
	}
}

// EscapeMarkdown makes s safe inside a Markdown table cell.
func EscapeMarkdown(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r", ""), "\n", "<br>")
}

func escapeAll(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = EscapeMarkdown(c)
	}
	return out
}
