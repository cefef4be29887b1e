package ck

import (
	"strconv"
	"strings"
	"sync"
)

var (
	reverseOnce sync.Once
	reverse     map[string]uint // "CKM_X" / "CKA_X" -> value
)

func buildReverse() {
	reverse = map[string]uint{}
	for _, t := range []map[uint]string{genMech, genAttr, extraMech, extraAttr} {
		for v, n := range t {
			reverse[n] = v
		}
	}
	// Aliases people type.
	reverse["CKM_ECDSA_KEY_PAIR_GEN"] = reverse["CKM_EC_KEY_PAIR_GEN"]
}

func byName(s, prefix string) (uint, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(strings.ToLower(s), "0x") {
		v, err := strconv.ParseUint(s[2:], 16, 64)
		return uint(v), err == nil
	}
	reverseOnce.Do(buildReverse)
	name := strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
	if !strings.HasPrefix(name, prefix) {
		name = prefix + name
	}
	v, ok := reverse[name]
	return v, ok
}
