// One wrapper per p11.Module method; the compile-time assertion in faults.go keeps this file in step with p11/module.go.

package faults

import "github.com/miekg/pkcs11"

// GetInfo is C_GetInfo, failed when a rule says so.
func (f *Module) GetInfo() (pkcs11.Info, error) {
	if err := f.hit("C_GetInfo"); err != nil {
		return pkcs11.Info{}, err
	}
	return f.M.GetInfo()
}

// GetSlotList is C_GetSlotList, failed when a rule says so.
func (f *Module) GetSlotList(tokenPresent bool) ([]uint, error) {
	if err := f.hit("C_GetSlotList"); err != nil {
		return nil, err
	}
	return f.M.GetSlotList(tokenPresent)
}

// GetSlotInfo is C_GetSlotInfo, failed when a rule says so.
func (f *Module) GetSlotInfo(slotID uint) (pkcs11.SlotInfo, error) {
	if err := f.hit("C_GetSlotInfo"); err != nil {
		return pkcs11.SlotInfo{}, err
	}
	return f.M.GetSlotInfo(slotID)
}

// GetTokenInfo is C_GetTokenInfo, failed when a rule says so.
func (f *Module) GetTokenInfo(slotID uint) (pkcs11.TokenInfo, error) {
	if err := f.hit("C_GetTokenInfo"); err != nil {
		return pkcs11.TokenInfo{}, err
	}
	return f.M.GetTokenInfo(slotID)
}

// GetMechanismList is C_GetMechanismList, failed when a rule says so.
func (f *Module) GetMechanismList(slotID uint) ([]*pkcs11.Mechanism, error) {
	if err := f.hit("C_GetMechanismList"); err != nil {
		return nil, err
	}
	return f.M.GetMechanismList(slotID)
}

// GetMechanismInfo is C_GetMechanismInfo, failed when a rule says so.
func (f *Module) GetMechanismInfo(slotID uint, m []*pkcs11.Mechanism) (pkcs11.MechanismInfo, error) {
	if err := f.hit("C_GetMechanismInfo"); err != nil {
		return pkcs11.MechanismInfo{}, err
	}
	return f.M.GetMechanismInfo(slotID, m)
}

// InitToken is C_InitToken, failed when a rule says so.
func (f *Module) InitToken(slotID uint, pin string, label string) error {
	if err := f.hit("C_InitToken"); err != nil {
		return err
	}
	return f.M.InitToken(slotID, pin, label)
}

// InitPIN is C_InitPIN, failed when a rule says so.
func (f *Module) InitPIN(sh pkcs11.SessionHandle, pin string) error {
	if err := f.hit("C_InitPIN"); err != nil {
		return err
	}
	return f.M.InitPIN(sh, pin)
}

// SetPIN is C_SetPIN, failed when a rule says so.
func (f *Module) SetPIN(sh pkcs11.SessionHandle, oldpin string, newpin string) error {
	if err := f.hit("C_SetPIN"); err != nil {
		return err
	}
	return f.M.SetPIN(sh, oldpin, newpin)
}

// OpenSession is C_OpenSession, failed when a rule says so.
func (f *Module) OpenSession(slotID uint, flags uint) (pkcs11.SessionHandle, error) {
	if err := f.hit("C_OpenSession"); err != nil {
		return 0, err
	}
	return f.M.OpenSession(slotID, flags)
}

// CloseSession is C_CloseSession, failed when a rule says so.
func (f *Module) CloseSession(sh pkcs11.SessionHandle) error {
	if err := f.hit("C_CloseSession"); err != nil {
		return err
	}
	return f.M.CloseSession(sh)
}

// CloseAllSessions is C_CloseAllSessions, failed when a rule says so.
func (f *Module) CloseAllSessions(slotID uint) error {
	if err := f.hit("C_CloseAllSessions"); err != nil {
		return err
	}
	return f.M.CloseAllSessions(slotID)
}

// GetSessionInfo is C_GetSessionInfo, failed when a rule says so.
func (f *Module) GetSessionInfo(sh pkcs11.SessionHandle) (pkcs11.SessionInfo, error) {
	if err := f.hit("C_GetSessionInfo"); err != nil {
		return pkcs11.SessionInfo{}, err
	}
	return f.M.GetSessionInfo(sh)
}

// Login is C_Login, failed when a rule says so.
func (f *Module) Login(sh pkcs11.SessionHandle, userType uint, pin string) error {
	if err := f.hit("C_Login"); err != nil {
		return err
	}
	return f.M.Login(sh, userType, pin)
}

// Logout is C_Logout, failed when a rule says so.
func (f *Module) Logout(sh pkcs11.SessionHandle) error {
	if err := f.hit("C_Logout"); err != nil {
		return err
	}
	return f.M.Logout(sh)
}

// CreateObject is C_CreateObject, failed when a rule says so.
func (f *Module) CreateObject(sh pkcs11.SessionHandle, temp []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	if err := f.hit("C_CreateObject"); err != nil {
		return 0, err
	}
	return f.M.CreateObject(sh, temp)
}

// CopyObject is C_CopyObject, failed when a rule says so.
func (f *Module) CopyObject(sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, temp []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	if err := f.hit("C_CopyObject"); err != nil {
		return 0, err
	}
	return f.M.CopyObject(sh, o, temp)
}

// DestroyObject is C_DestroyObject, failed when a rule says so.
func (f *Module) DestroyObject(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle) error {
	if err := f.hit("C_DestroyObject"); err != nil {
		return err
	}
	return f.M.DestroyObject(sh, oh)
}

// GetObjectSize is C_GetObjectSize, failed when a rule says so.
func (f *Module) GetObjectSize(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle) (uint, error) {
	if err := f.hit("C_GetObjectSize"); err != nil {
		return 0, err
	}
	return f.M.GetObjectSize(sh, oh)
}

// GetAttributeValue is C_GetAttributeValue, failed when a rule says so.
func (f *Module) GetAttributeValue(sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, a []*pkcs11.Attribute) ([]*pkcs11.Attribute, error) {
	if err := f.hit("C_GetAttributeValue"); err != nil {
		return nil, err
	}
	return f.M.GetAttributeValue(sh, o, a)
}

// SetAttributeValue is C_SetAttributeValue, failed when a rule says so.
func (f *Module) SetAttributeValue(sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, a []*pkcs11.Attribute) error {
	if err := f.hit("C_SetAttributeValue"); err != nil {
		return err
	}
	return f.M.SetAttributeValue(sh, o, a)
}

// FindObjectsInit is C_FindObjectsInit, failed when a rule says so.
func (f *Module) FindObjectsInit(sh pkcs11.SessionHandle, temp []*pkcs11.Attribute) error {
	if err := f.hit("C_FindObjectsInit"); err != nil {
		return err
	}
	return f.M.FindObjectsInit(sh, temp)
}

// FindObjects is C_FindObjects, failed when a rule says so.
func (f *Module) FindObjects(sh pkcs11.SessionHandle, max int) ([]pkcs11.ObjectHandle, bool, error) {
	if err := f.hit("C_FindObjects"); err != nil {
		return nil, false, err
	}
	return f.M.FindObjects(sh, max)
}

// FindObjectsFinal is C_FindObjectsFinal, failed when a rule says so.
func (f *Module) FindObjectsFinal(sh pkcs11.SessionHandle) error {
	if err := f.hit("C_FindObjectsFinal"); err != nil {
		return err
	}
	return f.M.FindObjectsFinal(sh)
}

// EncryptInit is C_EncryptInit, failed when a rule says so.
func (f *Module) EncryptInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error {
	if err := f.hit("C_EncryptInit"); err != nil {
		return err
	}
	return f.M.EncryptInit(sh, m, o)
}

// Encrypt is C_Encrypt, failed when a rule says so.
func (f *Module) Encrypt(sh pkcs11.SessionHandle, message []byte) ([]byte, error) {
	if err := f.hit("C_Encrypt"); err != nil {
		return nil, err
	}
	return f.M.Encrypt(sh, message)
}

// EncryptUpdate is C_EncryptUpdate, failed when a rule says so.
func (f *Module) EncryptUpdate(sh pkcs11.SessionHandle, plain []byte) ([]byte, error) {
	if err := f.hit("C_EncryptUpdate"); err != nil {
		return nil, err
	}
	return f.M.EncryptUpdate(sh, plain)
}

// EncryptFinal is C_EncryptFinal, failed when a rule says so.
func (f *Module) EncryptFinal(sh pkcs11.SessionHandle) ([]byte, error) {
	if err := f.hit("C_EncryptFinal"); err != nil {
		return nil, err
	}
	return f.M.EncryptFinal(sh)
}

// DecryptInit is C_DecryptInit, failed when a rule says so.
func (f *Module) DecryptInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error {
	if err := f.hit("C_DecryptInit"); err != nil {
		return err
	}
	return f.M.DecryptInit(sh, m, o)
}

// Decrypt is C_Decrypt, failed when a rule says so.
func (f *Module) Decrypt(sh pkcs11.SessionHandle, cipher []byte) ([]byte, error) {
	if err := f.hit("C_Decrypt"); err != nil {
		return nil, err
	}
	return f.M.Decrypt(sh, cipher)
}

// DecryptUpdate is C_DecryptUpdate, failed when a rule says so.
func (f *Module) DecryptUpdate(sh pkcs11.SessionHandle, cipher []byte) ([]byte, error) {
	if err := f.hit("C_DecryptUpdate"); err != nil {
		return nil, err
	}
	return f.M.DecryptUpdate(sh, cipher)
}

// DecryptFinal is C_DecryptFinal, failed when a rule says so.
func (f *Module) DecryptFinal(sh pkcs11.SessionHandle) ([]byte, error) {
	if err := f.hit("C_DecryptFinal"); err != nil {
		return nil, err
	}
	return f.M.DecryptFinal(sh)
}

// DigestInit is C_DigestInit, failed when a rule says so.
func (f *Module) DigestInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism) error {
	if err := f.hit("C_DigestInit"); err != nil {
		return err
	}
	return f.M.DigestInit(sh, m)
}

// Digest is C_Digest, failed when a rule says so.
func (f *Module) Digest(sh pkcs11.SessionHandle, message []byte) ([]byte, error) {
	if err := f.hit("C_Digest"); err != nil {
		return nil, err
	}
	return f.M.Digest(sh, message)
}

// DigestUpdate is C_DigestUpdate, failed when a rule says so.
func (f *Module) DigestUpdate(sh pkcs11.SessionHandle, message []byte) error {
	if err := f.hit("C_DigestUpdate"); err != nil {
		return err
	}
	return f.M.DigestUpdate(sh, message)
}

// DigestFinal is C_DigestFinal, failed when a rule says so.
func (f *Module) DigestFinal(sh pkcs11.SessionHandle) ([]byte, error) {
	if err := f.hit("C_DigestFinal"); err != nil {
		return nil, err
	}
	return f.M.DigestFinal(sh)
}

// SignInit is C_SignInit, failed when a rule says so.
func (f *Module) SignInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error {
	if err := f.hit("C_SignInit"); err != nil {
		return err
	}
	return f.M.SignInit(sh, m, o)
}

// Sign is C_Sign, failed when a rule says so.
func (f *Module) Sign(sh pkcs11.SessionHandle, message []byte) ([]byte, error) {
	if err := f.hit("C_Sign"); err != nil {
		return nil, err
	}
	return f.M.Sign(sh, message)
}

// SignUpdate is C_SignUpdate, failed when a rule says so.
func (f *Module) SignUpdate(sh pkcs11.SessionHandle, message []byte) error {
	if err := f.hit("C_SignUpdate"); err != nil {
		return err
	}
	return f.M.SignUpdate(sh, message)
}

// SignFinal is C_SignFinal, failed when a rule says so.
func (f *Module) SignFinal(sh pkcs11.SessionHandle) ([]byte, error) {
	if err := f.hit("C_SignFinal"); err != nil {
		return nil, err
	}
	return f.M.SignFinal(sh)
}

// VerifyInit is C_VerifyInit, failed when a rule says so.
func (f *Module) VerifyInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, key pkcs11.ObjectHandle) error {
	if err := f.hit("C_VerifyInit"); err != nil {
		return err
	}
	return f.M.VerifyInit(sh, m, key)
}

// Verify is C_Verify, failed when a rule says so.
func (f *Module) Verify(sh pkcs11.SessionHandle, data []byte, signature []byte) error {
	if err := f.hit("C_Verify"); err != nil {
		return err
	}
	return f.M.Verify(sh, data, signature)
}

// VerifyUpdate is C_VerifyUpdate, failed when a rule says so.
func (f *Module) VerifyUpdate(sh pkcs11.SessionHandle, part []byte) error {
	if err := f.hit("C_VerifyUpdate"); err != nil {
		return err
	}
	return f.M.VerifyUpdate(sh, part)
}

// VerifyFinal is C_VerifyFinal, failed when a rule says so.
func (f *Module) VerifyFinal(sh pkcs11.SessionHandle, signature []byte) error {
	if err := f.hit("C_VerifyFinal"); err != nil {
		return err
	}
	return f.M.VerifyFinal(sh, signature)
}

// GenerateKey is C_GenerateKey, failed when a rule says so.
func (f *Module) GenerateKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, temp []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	if err := f.hit("C_GenerateKey"); err != nil {
		return 0, err
	}
	return f.M.GenerateKey(sh, m, temp)
}

// GenerateKeyPair is C_GenerateKeyPair, failed when a rule says so.
func (f *Module) GenerateKeyPair(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, public []*pkcs11.Attribute, private []*pkcs11.Attribute) (pkcs11.ObjectHandle, pkcs11.ObjectHandle, error) {
	if err := f.hit("C_GenerateKeyPair"); err != nil {
		return 0, 0, err
	}
	return f.M.GenerateKeyPair(sh, m, public, private)
}

// WrapKey is C_WrapKey, failed when a rule says so.
func (f *Module) WrapKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, wrappingkey pkcs11.ObjectHandle, key pkcs11.ObjectHandle) ([]byte, error) {
	if err := f.hit("C_WrapKey"); err != nil {
		return nil, err
	}
	return f.M.WrapKey(sh, m, wrappingkey, key)
}

// UnwrapKey is C_UnwrapKey, failed when a rule says so.
func (f *Module) UnwrapKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, unwrappingkey pkcs11.ObjectHandle, wrappedkey []byte, a []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	if err := f.hit("C_UnwrapKey"); err != nil {
		return 0, err
	}
	return f.M.UnwrapKey(sh, m, unwrappingkey, wrappedkey, a)
}

// DeriveKey is C_DeriveKey, failed when a rule says so.
func (f *Module) DeriveKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, basekey pkcs11.ObjectHandle, a []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	if err := f.hit("C_DeriveKey"); err != nil {
		return 0, err
	}
	return f.M.DeriveKey(sh, m, basekey, a)
}

// GenerateRandom is C_GenerateRandom, failed when a rule says so.
func (f *Module) GenerateRandom(sh pkcs11.SessionHandle, length int) ([]byte, error) {
	if err := f.hit("C_GenerateRandom"); err != nil {
		return nil, err
	}
	return f.M.GenerateRandom(sh, length)
}
