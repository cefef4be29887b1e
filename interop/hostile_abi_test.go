package interop

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/craton-co/craton/internal/docsection"
	"github.com/miekg/pkcs11"
)

// abiCase is one case of the C ABI hostile-input catalogue in
// docs/reliability.md. The C harness (testdata/hostile_abi.c) runs the
// call and prints "case <ID> 0x<rv> <post>"; TestHostileABICatalogue
// compares it with RV, and TestHostileABICatalogueDoc keeps the doc's table
// equal to abiCases (CRATON_UPDATE_DOCS=1 rewrites it).
type abiCase struct {
	ID   string // the harness's case name
	Area string
	Call string // the call as the harness makes it (the doc shows it)
	RV   uint   // expected CK_RV
	// Also is what the harness checks besides the CK_RV (its "post"
	// field), for the doc; "" for nothing.
	Also string
}

// guard: the buffer behind the pointer is followed by a PROT_NONE page, so
// reading or writing past it kills the harness (SIGSEGV).
const guard = "guard page after the buffer: nothing read past it"

var abiCases = []abiCase{
	// NULL pointers where the spec requires one (CKR_ARGUMENTS_BAD).
	{"null-ppFunctionList", "NULL pointer", "C_GetFunctionList(NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-ppInterface", "NULL pointer", "C_GetInterface(NULL, NULL, NULL, 0)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-interface-pulCount", "NULL pointer", "C_GetInterfaceList(NULL, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-GetInfo", "NULL pointer", "C_GetInfo(NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-slotlist-pulCount", "NULL pointer", "C_GetSlotList(FALSE, NULL, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-slotinfo", "NULL pointer", "C_GetSlotInfo(slot, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-tokeninfo", "NULL pointer", "C_GetTokenInfo(slot, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-mechlist-pulCount", "NULL pointer", "C_GetMechanismList(slot, NULL, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-mechinfo", "NULL pointer", "C_GetMechanismInfo(slot, CKM_SHA256_HMAC, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-phSession", "NULL pointer", "C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-sessioninfo", "NULL pointer", "C_GetSessionInfo(s, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-pPin", "NULL pointer", "C_Login(s, CKU_USER, NULL, 8)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-setpin-old", "NULL pointer", "C_SetPIN(s, NULL, 8, new, 10)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-inittoken-label", "NULL pointer", "C_InitToken(slot, so, 10, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-pTemplate", "NULL pointer", "C_CreateObject(s, NULL, 3, &h)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-phObject", "NULL pointer", "C_CreateObject(s, {CKA_CLASS, CKA_TOKEN}, 2, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-pValue-with-length", "NULL pointer", "C_CreateObject(s, {{CKA_LABEL, NULL, 5}}, 1, &h)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-getattr-template", "NULL pointer", "C_GetAttributeValue(s, key, NULL, 1)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-find-template", "NULL pointer", "C_FindObjectsInit(s, NULL, 2)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-phObject-find", "NULL pointer", "C_FindObjects(s, NULL, 4, &n)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-pulObjectCount", "NULL pointer", "C_FindObjects(s, hs, 4, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-pMechanism", "NULL pointer", "C_SignInit(s, NULL, key)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-pulSignatureLen", "NULL pointer", "C_Sign(s, data, 5, sig, NULL) after C_SignInit", pkcs11.CKR_ARGUMENTS_BAD,
		"the operation stays active (as in SoftHSMv2): a correct C_Sign then returns the 32-byte MAC"},
	{"null-pData-with-length", "NULL pointer", "C_Sign(s, NULL, 5, sig, &len) after C_SignInit", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-encrypt-mechanism", "NULL pointer", "C_EncryptInit(s, NULL, aes)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-digest-mechanism", "NULL pointer", "C_DigestInit(s, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-phKey", "NULL pointer", "C_GenerateKey(s, AES_KEY_GEN, t, 1, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-phPrivateKey", "NULL pointer", "C_GenerateKeyPair(s, EC_KEY_PAIR_GEN, pub, 1, NULL, 0, &hp, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-pulWrappedKeyLen", "NULL pointer", "C_WrapKey(s, AES_KEY_WRAP, aes, key, NULL, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-random-buffer", "NULL pointer", "C_GenerateRandom(s, NULL, 16)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"null-pulSize", "NULL pointer", "C_GetObjectSize(s, key, NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},
	{"waitforslot-pReserved", "NULL pointer", "C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, &n) (pReserved must be NULL)", pkcs11.CKR_ARGUMENTS_BAD, ""},

	// Lengths larger than the buffer behind them.
	{"huge-ulCount-create", "oversized length", "C_CreateObject(s, t[1], 0x10000000, &h)", pkcs11.CKR_ARGUMENTS_BAD, guard},
	{"huge-ulCount-getattr", "oversized length", "C_GetAttributeValue(s, key, t[1], ULONG_MAX/sizeof(CK_ATTRIBUTE))", pkcs11.CKR_ARGUMENTS_BAD, guard},
	{"ulCount-257-find", "oversized length", "C_FindObjectsInit(s, t[1], 257) (templates hold at most 256)", pkcs11.CKR_ARGUMENTS_BAD, guard},
	{"ulValueLen-64KiB+1", "oversized length", "C_CreateObject with {CKA_VALUE, buf[16], 65537}", pkcs11.CKR_ATTRIBUTE_VALUE_INVALID, guard},
	{"ulValueLen-unavailable-create", "oversized length", "C_CreateObject with {CKA_VALUE, buf[16], CK_UNAVAILABLE_INFORMATION}", pkcs11.CKR_ATTRIBUTE_VALUE_INVALID, guard},
	{"ulPinLen-257", "oversized length", "C_Login(s, CKU_USER, pin[10], 257)", pkcs11.CKR_PIN_LEN_RANGE, guard},
	{"ulPinLen-huge", "oversized length", "C_Login(s, CKU_USER, pin[10], ULONG_MAX)", pkcs11.CKR_PIN_LEN_RANGE, guard},
	{"setpin-new-257", "oversized length", "C_SetPIN(s, pin, 10, pin[10], 257)", pkcs11.CKR_PIN_LEN_RANGE, guard},
	{"ulDataLen-64MiB+1-sign", "oversized length", "C_Sign(s, buf[16], 64 MiB + 1, sig, &len)", pkcs11.CKR_DATA_LEN_RANGE, guard},
	{"ulDataLen-huge-encrypt", "oversized length", "C_Encrypt(s, buf[16], ULONG_MAX, out, &len) (AES-CBC-PAD)", pkcs11.CKR_DATA_LEN_RANGE, guard},
	{"ulSignatureLen-64MiB+1-verify", "oversized length", "C_Verify(s, data, 5, buf[16], 64 MiB + 1)", pkcs11.CKR_DATA_LEN_RANGE, guard},
	{"ulPartLen-64MiB+1-digestupdate", "oversized length", "C_DigestUpdate(s, buf[16], 64 MiB + 1)", pkcs11.CKR_DATA_LEN_RANGE, guard},
	{"ulRandomLen-64MiB+1", "oversized length", "C_GenerateRandom(s, buf[16], 64 MiB + 1)", pkcs11.CKR_DATA_LEN_RANGE, "guard page after the buffer: nothing written past it"},
	{"ulParameterLen-64MiB+1", "oversized length", "C_SignInit(s, {SHA256_HMAC, buf[16], 64 MiB + 1}, key)", pkcs11.CKR_MECHANISM_PARAM_INVALID, guard},
	{"gcm-ulIvLen-64MiB+1", "oversized length", "C_EncryptInit(s, AES_GCM {pIv = buf[12], ulIvLen = 64 MiB + 1}, aes)", pkcs11.CKR_MECHANISM_PARAM_INVALID, guard},
	{"pulSignatureLen-huge-32-byte-buffer", "oversized length", "C_Sign(s, data, 5, buf[32], &len) with len = ULONG_MAX (HMAC-SHA256)", pkcs11.CKR_OK,
		"exactly 32 bytes written (guard page after them), len set to 32"},
	{"getattr-ulValueLen-unavailable-7-byte-buffer", "oversized length", "C_GetAttributeValue(s, key, {CKA_LABEL, buf[7], CK_UNAVAILABLE_INFORMATION}, 1)", pkcs11.CKR_OK,
		"the 7-byte label written, nothing past it (guard page), ulValueLen set to 7"},

	// Mechanism parameters.
	{"gcm-param-short", "mechanism parameter", "C_EncryptInit(s, {AES_GCM, &gcm, sizeof gcm - 1}, aes)", pkcs11.CKR_MECHANISM_PARAM_INVALID, ""},
	{"gcm-param-null-with-length", "mechanism parameter", "C_EncryptInit(s, {AES_GCM, NULL, sizeof gcm}, aes)", pkcs11.CKR_MECHANISM_PARAM_INVALID, ""},
	{"gcm-tagbits-200", "mechanism parameter", "C_EncryptInit(s, AES_GCM {ulTagBits = 200}, aes)", pkcs11.CKR_MECHANISM_PARAM_INVALID, ""},
	{"cbc-iv-8-bytes", "mechanism parameter", "C_EncryptInit(s, {AES_CBC_PAD, iv, 8}, aes)", pkcs11.CKR_MECHANISM_PARAM_INVALID, ""},
	{"oaep-param-short", "mechanism parameter", "C_EncryptInit(s, {RSA_PKCS_OAEP, &oaep, sizeof oaep - 1}, aes)", pkcs11.CKR_MECHANISM_PARAM_INVALID, ""},
	{"mechanism-unknown", "mechanism parameter", "C_SignInit(s, {0x7ffffff0, NULL, 0}, key)", pkcs11.CKR_MECHANISM_INVALID, ""},

	// Attribute values and engine checks behind the ABI.
	{"value-len-4-bytes", "attribute", "C_GenerateKey(s, AES_KEY_GEN, {CKA_VALUE_LEN, &u32, 4}, …) (a CK_ULONG is 8 bytes)", pkcs11.CKR_ATTRIBUTE_VALUE_INVALID, ""},
	{"bbool-8-bytes", "attribute", "C_GenerateKey(s, AES_KEY_GEN, {CKA_TOKEN, &ulong, 8}, …) (a CK_BBOOL is 1 byte)", pkcs11.CKR_ATTRIBUTE_VALUE_INVALID, ""},
	{"class-1-byte", "attribute", "C_CreateObject(s, {CKA_CLASS, &byte, 1}, …)", pkcs11.CKR_ATTRIBUTE_VALUE_INVALID, ""},
	{"getattr-wrap-template", "attribute", "C_GetAttributeValue(s, key, {CKA_WRAP_TEMPLATE, NULL, 0}, 1) (array attributes are not supported)", pkcs11.CKR_ATTRIBUTE_TYPE_INVALID,
		"ulValueLen set to CK_UNAVAILABLE_INFORMATION"},
	{"verify-signature-31-bytes", "attribute", "C_Verify(s, data, 5, sig, 31) (HMAC-SHA256)", pkcs11.CKR_SIGNATURE_LEN_RANGE, ""},
	{"digest-after-digestupdate", "order", "C_Digest after C_DigestUpdate", pkcs11.CKR_OPERATION_ACTIVE,
		"the multi-part digest goes on: C_DigestFinal returns SHA-256 of the updated part only"},
	{"sign-after-signupdate", "order", "C_Sign after C_SignUpdate", pkcs11.CKR_OPERATION_ACTIVE, ""},
	{"signinit-key-without-cka-sign", "attribute", "C_SignInit(s, HMAC, key with CKA_SIGN = FALSE)", pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED, ""},
	{"signinit-aes-key-for-hmac", "attribute", "C_SignInit(s, SHA256_HMAC, AES key)", pkcs11.CKR_KEY_TYPE_INCONSISTENT, ""},
	{"ro-session-token-object", "attribute", "C_CreateObject(read-only session, {CKA_TOKEN = TRUE, …})", pkcs11.CKR_SESSION_READ_ONLY, ""},
	{"closeallsessions-slot-invalid", "handle", "C_CloseAllSessions(0x7fff)", pkcs11.CKR_SLOT_ID_INVALID, ""},
	{"mechinfo-unknown", "handle", "C_GetMechanismInfo(slot, 0x7ffffff0, &info)", pkcs11.CKR_MECHANISM_INVALID, ""},

	// Handles.
	{"session-0", "handle", "C_GetSessionInfo(0, &info)", pkcs11.CKR_SESSION_HANDLE_INVALID, ""},
	{"session-random", "handle", "C_GetSessionInfo(0x5eed1234, &info)", pkcs11.CKR_SESSION_HANDLE_INVALID, ""},
	{"session-closed-signinit", "handle", "C_SignInit(closed, HMAC, key)", pkcs11.CKR_SESSION_HANDLE_INVALID, ""},
	{"session-closed-close", "handle", "C_CloseSession(closed)", pkcs11.CKR_SESSION_HANDLE_INVALID, ""},
	{"object-0", "handle", "C_GetAttributeValue(s, 0, {CKA_LABEL}, 1)", pkcs11.CKR_OBJECT_HANDLE_INVALID, ""},
	{"object-destroyed-getattr", "handle", "C_GetAttributeValue(s, destroyed, {CKA_LABEL}, 1)", pkcs11.CKR_OBJECT_HANDLE_INVALID, ""},
	{"object-destroyed-destroy", "handle", "C_DestroyObject(s, destroyed)", pkcs11.CKR_OBJECT_HANDLE_INVALID, ""},
	{"key-0-signinit", "handle", "C_SignInit(s, HMAC, 0)", pkcs11.CKR_KEY_HANDLE_INVALID, ""},
	{"key-random-signinit", "handle", "C_SignInit(s, HMAC, 0x7fff1234)", pkcs11.CKR_KEY_HANDLE_INVALID, ""},
	{"slot-invalid", "handle", "C_GetSlotInfo(0x7fff, &info)", pkcs11.CKR_SLOT_ID_INVALID, ""},
	{"opensession-slot-invalid", "handle", "C_OpenSession(0x7fff, CKF_SERIAL_SESSION, NULL, NULL, &h)", pkcs11.CKR_SLOT_ID_INVALID, ""},
	{"opensession-no-serial-flag", "handle", "C_OpenSession(slot, 0, NULL, NULL, &h)", pkcs11.CKR_SESSION_PARALLEL_NOT_SUPPORTED, ""},
	{"login-user-type-invalid", "handle", "C_Login(s, 7, pin, 10)", pkcs11.CKR_USER_TYPE_INVALID, ""},

	// Order.
	{"sign-without-signinit", "order", "C_Sign before C_SignInit", pkcs11.CKR_OPERATION_NOT_INITIALIZED, ""},
	{"signinit-twice", "order", "C_SignInit twice", pkcs11.CKR_OPERATION_ACTIVE, ""},
	{"findobjects-without-init", "order", "C_FindObjects before C_FindObjectsInit", pkcs11.CKR_OPERATION_NOT_INITIALIZED, ""},
	{"encryptfinal-without-init", "order", "C_EncryptFinal before C_EncryptInit", pkcs11.CKR_OPERATION_NOT_INITIALIZED, ""},
	{"initialize-twice", "order", "C_Initialize(NULL) while initialised", pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED, ""},
	{"login-twice", "order", "C_Login(CKU_USER) while the user is logged in", pkcs11.CKR_USER_ALREADY_LOGGED_IN, ""},

	// The two-call idiom.
	{"sign-buffer-too-small", "two-call idiom", "C_Sign(s, data, 5, sig, &len) with len = 8 (HMAC-SHA256)", pkcs11.CKR_BUFFER_TOO_SMALL,
		"len set to 32; the operation stays active: the retry with 32 bytes returns CKR_OK"},
	{"slotlist-count-0", "two-call idiom", "C_GetSlotList(FALSE, buf, &n) with n = 0", pkcs11.CKR_BUFFER_TOO_SMALL, "n set to the slot count"},
	{"mechlist-count-1", "two-call idiom", "C_GetMechanismList(slot, buf, &n) with n = 1", pkcs11.CKR_BUFFER_TOO_SMALL, "n set to the list length"},
	{"getattr-buffer-too-small", "two-call idiom", "C_GetAttributeValue(s, key, {CKA_LABEL, buf[2], 2}, 1)", pkcs11.CKR_BUFFER_TOO_SMALL, "ulValueLen set to CK_UNAVAILABLE_INFORMATION"},
	{"getattr-sensitive", "two-call idiom", "C_GetAttributeValue(s, key, {CKA_VALUE, buf, 64}, 1) of a sensitive key", pkcs11.CKR_ATTRIBUTE_SENSITIVE, "ulValueLen set to CK_UNAVAILABLE_INFORMATION"},
	{"getattr-type-invalid", "two-call idiom", "C_GetAttributeValue(s, key, {0x7ffffff0, NULL, 0}, 1)", pkcs11.CKR_ATTRIBUTE_TYPE_INVALID, "ulValueLen set to CK_UNAVAILABLE_INFORMATION"},

	// C_Finalize.
	{"finalize-pReserved", "finalize", "C_Finalize(&args) (pReserved must be NULL)", pkcs11.CKR_ARGUMENTS_BAD, "the library stays initialised (C_GetInfo returns CKR_OK)"},
	{"finalize", "finalize", "C_Finalize(NULL) with a session and an active operation", pkcs11.CKR_OK, ""},
	{"after-finalize-getinfo", "finalize", "C_GetInfo after C_Finalize", pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED, ""},
	{"after-finalize-sign", "finalize", "C_Sign on the old session after C_Finalize", pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED, ""},
	{"after-finalize-opensession", "finalize", "C_OpenSession after C_Finalize", pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED, ""},
	{"after-finalize-finalize", "finalize", "C_Finalize(NULL) after C_Finalize", pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED, ""},
	{"after-finalize-getfunctionlist", "finalize", "C_GetFunctionList after C_Finalize", pkcs11.CKR_OK, "the same function list"},
	{"reinit-old-session", "finalize", "C_GetSessionInfo(old session) after C_Finalize and a new C_Initialize", pkcs11.CKR_SESSION_HANDLE_INVALID, ""},
}

// rvName is the CKR_ name of rv.
func rvName(rv uint) string {
	if rv == pkcs11.CKR_OK {
		return "CKR_OK"
	}
	s := pkcs11.Error(rv).Error()
	return s[strings.LastIndex(s, " ")+1:]
}

// runHostileABI compiles and runs the harness; it returns the per-case
// lines (id → "0x<rv> <post>") in order, and the harness's error.
func runHostileABI(t *testing.T) (ids []string, got map[string]string, out string, err error) {
	src, rerr := os.ReadFile(filepath.Join("testdata", "hostile_abi.c"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	bin := compileC(t, "hostile_abi", string(src))
	s := newToken(t)
	out, err = s.run(2*time.Minute, nil, bin, libPath, userPIN)
	got = map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 3)
		if len(f) == 3 && f[0] == "case" {
			if _, dup := got[f[1]]; dup {
				t.Errorf("case %s reported twice", f[1])
			}
			ids = append(ids, f[1])
			got[f[1]] = f[2]
		}
	}
	return ids, got, out, err
}

// TestHostileABICatalogue runs every case of abiCases through
// libcraton_hsm.so and checks the CK_RV and the post-conditions.
func TestHostileABICatalogue(t *testing.T) {
	ids, got, out, err := runHostileABI(t)
	if err != nil || !strings.Contains(out, "\ndone\n") {
		last := "(none)"
		if len(ids) > 0 {
			last = ids[len(ids)-1]
		}
		t.Fatalf("the harness died (%v) after case %s: the next case crashed or over-read\n%s", err, last, out)
	}
	want := map[string]bool{}
	for _, c := range abiCases {
		want[c.ID] = true
		t.Run(c.ID, func(t *testing.T) {
			line, ok := got[c.ID]
			if !ok {
				t.Fatalf("the harness did not run case %s", c.ID)
			}
			rvs, post, _ := strings.Cut(line, " ")
			rv, perr := strconv.ParseUint(strings.TrimPrefix(rvs, "0x"), 16, 64)
			if perr != nil {
				t.Fatalf("bad line %q", line)
			}
			if uint(rv) != c.RV {
				t.Errorf("%s = %s (0x%x), want %s (0x%x)", c.Call, rvName(uint(rv)), rv, rvName(c.RV), c.RV)
			}
			if post != "ok" {
				t.Errorf("%s: %s", c.Call, post)
			}
		})
	}
	for _, id := range ids {
		if !want[id] {
			t.Errorf("the harness ran case %s (%s), which abiCases lacks", id, got[id])
		}
	}
}

const (
	abiBegin = "<!-- abi-catalogue:begin (generated from interop/hostile_abi_test.go; CRATON_UPDATE_DOCS=1 go test ./interop -run TestHostileABICatalogueDoc) -->"
	abiEnd   = "<!-- abi-catalogue:end -->"
)

func abiMarkdown() string {
	cell := func(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }
	var b strings.Builder
	b.WriteString("| # | area | call | expected | also checked |\n| --- | --- | --- | --- | --- |\n")
	for i, c := range abiCases {
		fmt.Fprintf(&b, "| %d | %s | `%s` | %s | %s |\n", i+1, c.Area, cell(c.Call), rvName(c.RV), cell(c.Also))
	}
	return b.String()
}

// TestHostileABICatalogueDoc keeps docs/reliability.md's C ABI table equal
// to abiCases.
func TestHostileABICatalogueDoc(t *testing.T) {
	if len(abiCases) < 25 {
		t.Errorf("the C ABI catalogue has %d cases, want at least 25", len(abiCases))
	}
	docsection.Check(t, filepath.Join(repoRoot(), "docs", "reliability.md"), abiBegin, abiEnd, abiMarkdown(),
		"CRATON_UPDATE_DOCS=1 go test ./interop -run TestHostileABICatalogueDoc")
}
