package avxstate

import "testing"

func TestClean(t *testing.T) { Clean() }
