package config

import (
	"fmt"
	"reflect"
	"strings"
)

// section describes one YAML section: its name, its keys in file order and
// the index of each in the section's struct. It is derived from the yaml
// tags of Config, so the key checks in Load can never disagree with the
// decoder.
type section struct {
	name  string
	index int      // field index in Config
	keys  []string // yaml keys in declaration order
	field map[string]int
}

var sections = func() []section {
	var out []section
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		f := ct.Field(i)
		s := section{name: yamlName(f), index: i, field: map[string]int{}}
		for j := range f.Type.NumField() {
			k := yamlName(f.Type.Field(j))
			s.keys = append(s.keys, k)
			s.field[k] = j
		}
		out = append(out, s)
	}
	return out
}()

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func findSection(name string) (section, bool) {
	for _, s := range sections {
		if s.name == name {
			return s, true
		}
	}
	return section{}, false
}

// fieldPtr returns a pointer to the field section.key of c.
func fieldPtr(c *Config, s section, key string) any {
	return reflect.ValueOf(c).Elem().Field(s.index).Field(s.field[key]).Addr().Interface()
}

// notSupported are Craton settings this engine deliberately does not accept,
// with the reason given to whoever copies them from a Craton file.
var notSupported = map[string]string{
	"daemon":                    "craton's engine has no gRPC daemon; remove the daemon section",
	"algorithms.crypto_backend": "craton's engine has a single Go crypto backend; remove crypto_backend",
}

// unknownKeyHint says what to do about an unknown key (or section, when sec
// is ""): a Craton setting we do not support, a key that belongs in another
// section, or the closest valid key.
func unknownKeyHint(sec, key string) string {
	full := key
	if sec != "" {
		full = sec + "." + key
	}
	if why, ok := notSupported[full]; ok {
		return why
	}
	if sec == "" {
		var names []string
		for _, s := range sections {
			names = append(names, s.name)
		}
		return suggest(key, names) + "valid sections: " + strings.Join(names, ", ")
	}
	for _, s := range sections {
		if _, ok := s.field[key]; ok && s.name != sec {
			return fmt.Sprintf("%s belongs in section %s", key, s.name)
		}
	}
	s, _ := findSection(sec)
	return suggest(key, s.keys) + "valid keys in " + sec + ": " + strings.Join(s.keys, ", ")
}

// suggest returns `did you mean "x"? ` for the candidate closest to word,
// or "" when none is close (edit distance above a third of its length, at
// least 2).
func suggest(word string, candidates []string) string {
	best, bestD := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(word), c)
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(best)/3) {
		return ""
	}
	return fmt.Sprintf("did you mean %q? ", best)
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
