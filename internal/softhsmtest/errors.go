package softhsmtest

import "fmt"

func errNotOne(class, id string, n int) error {
	return fmt.Errorf("expected one %s with id %s, found %d", class, id, n)
}
