package inventory

import (
	"fmt"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

var tokenFlagNames = []struct {
	bit  uint
	name string
}{
	{pkcs11.CKF_RNG, "rng"}, {pkcs11.CKF_WRITE_PROTECTED, "write_protected"},
	{pkcs11.CKF_LOGIN_REQUIRED, "login_required"}, {pkcs11.CKF_USER_PIN_INITIALIZED, "user_pin_initialized"},
	{pkcs11.CKF_RESTORE_KEY_NOT_NEEDED, "restore_key_not_needed"}, {pkcs11.CKF_CLOCK_ON_TOKEN, "clock_on_token"},
	{pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH, "protected_authentication_path"},
	{pkcs11.CKF_DUAL_CRYPTO_OPERATIONS, "dual_crypto_operations"}, {pkcs11.CKF_TOKEN_INITIALIZED, "token_initialized"},
	{pkcs11.CKF_SECONDARY_AUTHENTICATION, "secondary_authentication"},
	{pkcs11.CKF_USER_PIN_COUNT_LOW, "user_pin_count_low"}, {pkcs11.CKF_USER_PIN_FINAL_TRY, "user_pin_final_try"},
	{pkcs11.CKF_USER_PIN_LOCKED, "user_pin_locked"}, {pkcs11.CKF_USER_PIN_TO_BE_CHANGED, "user_pin_to_be_changed"},
	{pkcs11.CKF_SO_PIN_COUNT_LOW, "so_pin_count_low"}, {pkcs11.CKF_SO_PIN_FINAL_TRY, "so_pin_final_try"},
	{pkcs11.CKF_SO_PIN_LOCKED, "so_pin_locked"}, {pkcs11.CKF_SO_PIN_TO_BE_CHANGED, "so_pin_to_be_changed"},
	{pkcs11.CKF_ERROR_STATE, "error_state"},
}

// TokenFlags names the CKF_ bits of a CK_TOKEN_INFO; unknown bits as hex
// (SoftHSM sets 0x20, which PKCS#11 leaves undefined).
func TokenFlags(flags uint) []string {
	var out []string
	for _, f := range tokenFlagNames {
		if flags&f.bit != 0 {
			out = append(out, f.name)
			flags &^= f.bit
		}
	}
	if flags != 0 {
		out = append(out, fmt.Sprintf("0x%x", flags))
	}
	return out
}

func version(v pkcs11.Version) string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

func readLibraryInfo(m p11.Module) (LibraryInfo, pkcs11.Info, error) {
	info, err := m.GetInfo()
	if err != nil {
		return LibraryInfo{}, info, p11.Wrap("C_GetInfo", err)
	}
	return LibraryInfo{
		Manufacturer:    p11.TrimLabel(info.ManufacturerID),
		Description:     p11.TrimLabel(info.LibraryDescription),
		Version:         version(info.LibraryVersion),
		CryptokiVersion: version(info.CryptokiVersion),
	}, info, nil
}

func tokenInfoOf(ti pkcs11.TokenInfo) TokenInfo {
	return TokenInfo{
		Label:           p11.TrimLabel(ti.Label),
		Serial:          p11.TrimLabel(ti.SerialNumber),
		Model:           p11.TrimLabel(ti.Model),
		Manufacturer:    p11.TrimLabel(ti.ManufacturerID),
		HardwareVersion: version(ti.HardwareVersion),
		FirmwareVersion: version(ti.FirmwareVersion),
		Flags:           TokenFlags(ti.Flags),
	}
}
