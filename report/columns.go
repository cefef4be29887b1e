package report

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// column is one `col`-tagged field of a record type.
type column struct {
	name  string
	index []int
}

// columnsOf returns the columns of struct type t, in field order. A field
// tagged `col:"name"` (or, lacking that, `csv:"name"`) is a column;
// untagged and "-" fields are not.
func columnsOf(t reflect.Type) []column {
	var cols []column
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("col")
		if !ok {
			tag = f.Tag.Get("csv") // records that define a CSV file name their columns once
		}
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			for _, c := range columnsOf(f.Type) {
				c.index = append([]int{i}, c.index...)
				cols = append(cols, c)
			}
			continue
		}
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		cols = append(cols, column{name: tag, index: []int{i}})
	}
	return cols
}

// rowsOf turns a slice of structs (or struct pointers) into header + cells.
func rowsOf(rows any) ([]string, [][]string, error) {
	v := reflect.ValueOf(rows)
	if v.Kind() != reflect.Slice {
		return nil, nil, fmt.Errorf("report: rows must be a slice, got %T", rows)
	}
	et := v.Type().Elem()
	if et.Kind() == reflect.Pointer {
		et = et.Elem()
	}
	if et.Kind() != reflect.Struct {
		return nil, nil, fmt.Errorf("report: rows must be a slice of structs, got %T", rows)
	}
	cols := columnsOf(et)
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.name
	}
	out := make([][]string, 0, v.Len())
	for i := 0; i < v.Len(); i++ {
		rv := reflect.Indirect(v.Index(i))
		cells := make([]string, len(cols))
		for j, c := range cols {
			cells[j] = cell(rv.FieldByIndex(c.index))
		}
		out = append(out, cells)
	}
	return header, out, nil
}

// cell formats one value the same way for table, CSV and Markdown.
func cell(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if s, ok := v.Interface().(fmt.Stringer); ok {
		if t, isTime := s.(time.Time); isTime {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		}
		return s.String()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = cell(v.Index(i))
		}
		return strings.Join(parts, ";")
	}
	return fmt.Sprint(v.Interface())
}
