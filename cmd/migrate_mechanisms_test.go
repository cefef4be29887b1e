package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/inventory"
)

func TestMechanismsSoftHSMToEngine(t *testing.T) {
	engineDir(t)
	fx := softhsmtest.New(t)
	tok := fx.EmptyToken("cmd-mechanisms")
	softhsmtest.PopulateRepresentative(tok)
	t.Setenv("CRATON_TEST_SRC_PIN", softhsmtest.UserPIN)

	out := mustRun(t, "migrate", "mechanisms", "--from-token", tok.Label,
		"--from-pin-env", "CRATON_TEST_SRC_PIN", "--strict", "-o", "json")
	var rep inventory.MechReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	status := map[string]inventory.MechRow{}
	for _, r := range rep.Rows {
		status[r.Mechanism] = r
	}
	if r := status["CKM_RSA_X_509"]; r.Status != "source-only" || !strings.Contains(r.Advice, "PSS") {
		t.Errorf("CKM_RSA_X_509 row = %+v", r)
	}
	if r := status["CKM_AES_KEY_WRAP_PAD"]; r.Status != "both" {
		t.Errorf("CKM_AES_KEY_WRAP_PAD row = %+v", r)
	}
	if len(rep.Needed) == 0 || len(rep.MissingOnTarget) != 0 {
		t.Errorf("needs %v, missing %v", rep.Needed, rep.MissingOnTarget)
	}
	// --strict without keys to judge is a usage error, not a silent pass.
	if code, _, errOut := run(t, "migrate", "mechanisms", "--from-token", tok.Label, "--strict"); code != 2 || !strings.Contains(errOut, "--inventory") {
		t.Fatalf("--strict without keys: exit %d, %s", code, errOut)
	}
}
