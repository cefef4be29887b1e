package inventory_test

// One method per p11.Module method: every PKCS#11 call is counted.

import (
	"sync/atomic"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// countingModule wraps a p11.Module and counts every PKCS#11 call made
// through it, for the calls-per-object metric.
type countingModule struct {
	m     p11.Module
	calls atomic.Int64
}

var _ p11.Module = (*countingModule)(nil)

func (c *countingModule) GetInfo() (pkcs11.Info, error) {
	c.calls.Add(1)
	return c.m.GetInfo()
}

func (c *countingModule) GetSlotList(tokenPresent bool) ([]uint, error) {
	c.calls.Add(1)
	return c.m.GetSlotList(tokenPresent)
}

func (c *countingModule) GetSlotInfo(slotID uint) (pkcs11.SlotInfo, error) {
	c.calls.Add(1)
	return c.m.GetSlotInfo(slotID)
}

func (c *countingModule) GetTokenInfo(slotID uint) (pkcs11.TokenInfo, error) {
	c.calls.Add(1)
	return c.m.GetTokenInfo(slotID)
}

func (c *countingModule) GetMechanismList(slotID uint) ([]*pkcs11.Mechanism, error) {
	c.calls.Add(1)
	return c.m.GetMechanismList(slotID)
}

func (c *countingModule) GetMechanismInfo(slotID uint, m []*pkcs11.Mechanism) (pkcs11.MechanismInfo, error) {
	c.calls.Add(1)
	return c.m.GetMechanismInfo(slotID, m)
}

func (c *countingModule) InitToken(slotID uint, pin string, label string) error {
	c.calls.Add(1)
	return c.m.InitToken(slotID, pin, label)
}

func (c *countingModule) InitPIN(sh pkcs11.SessionHandle, pin string) error {
	c.calls.Add(1)
	return c.m.InitPIN(sh, pin)
}

func (c *countingModule) SetPIN(sh pkcs11.SessionHandle, oldpin string, newpin string) error {
	c.calls.Add(1)
	return c.m.SetPIN(sh, oldpin, newpin)
}

func (c *countingModule) OpenSession(slotID uint, flags uint) (pkcs11.SessionHandle, error) {
	c.calls.Add(1)
	return c.m.OpenSession(slotID, flags)
}

func (c *countingModule) CloseSession(sh pkcs11.SessionHandle) error {
	c.calls.Add(1)
	return c.m.CloseSession(sh)
}

func (c *countingModule) CloseAllSessions(slotID uint) error {
	c.calls.Add(1)
	return c.m.CloseAllSessions(slotID)
}

func (c *countingModule) GetSessionInfo(sh pkcs11.SessionHandle) (pkcs11.SessionInfo, error) {
	c.calls.Add(1)
	return c.m.GetSessionInfo(sh)
}

func (c *countingModule) Login(sh pkcs11.SessionHandle, userType uint, pin string) error {
	c.calls.Add(1)
	return c.m.Login(sh, userType, pin)
}

func (c *countingModule) Logout(sh pkcs11.SessionHandle) error {
	c.calls.Add(1)
	return c.m.Logout(sh)
}

func (c *countingModule) CreateObject(sh pkcs11.SessionHandle, temp []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	c.calls.Add(1)
	return c.m.CreateObject(sh, temp)
}

func (c *countingModule) CopyObject(sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, temp []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	c.calls.Add(1)
	return c.m.CopyObject(sh, o, temp)
}

func (c *countingModule) DestroyObject(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle) error {
	c.calls.Add(1)
	return c.m.DestroyObject(sh, oh)
}

func (c *countingModule) GetObjectSize(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle) (uint, error) {
	c.calls.Add(1)
	return c.m.GetObjectSize(sh, oh)
}

func (c *countingModule) GetAttributeValue(sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, a []*pkcs11.Attribute) ([]*pkcs11.Attribute, error) {
	c.calls.Add(1)
	return c.m.GetAttributeValue(sh, o, a)
}

func (c *countingModule) SetAttributeValue(sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, a []*pkcs11.Attribute) error {
	c.calls.Add(1)
	return c.m.SetAttributeValue(sh, o, a)
}

func (c *countingModule) FindObjectsInit(sh pkcs11.SessionHandle, temp []*pkcs11.Attribute) error {
	c.calls.Add(1)
	return c.m.FindObjectsInit(sh, temp)
}

func (c *countingModule) FindObjects(sh pkcs11.SessionHandle, max int) ([]pkcs11.ObjectHandle, bool, error) {
	c.calls.Add(1)
	return c.m.FindObjects(sh, max)
}

func (c *countingModule) FindObjectsFinal(sh pkcs11.SessionHandle) error {
	c.calls.Add(1)
	return c.m.FindObjectsFinal(sh)
}

func (c *countingModule) EncryptInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error {
	c.calls.Add(1)
	return c.m.EncryptInit(sh, m, o)
}

func (c *countingModule) Encrypt(sh pkcs11.SessionHandle, message []byte) ([]byte, error) {
	c.calls.Add(1)
	return c.m.Encrypt(sh, message)
}

func (c *countingModule) EncryptUpdate(sh pkcs11.SessionHandle, plain []byte) ([]byte, error) {
	c.calls.Add(1)
	return c.m.EncryptUpdate(sh, plain)
}

func (c *countingModule) EncryptFinal(sh pkcs11.SessionHandle) ([]byte, error) {
	c.calls.Add(1)
	return c.m.EncryptFinal(sh)
}

func (c *countingModule) DecryptInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error {
	c.calls.Add(1)
	return c.m.DecryptInit(sh, m, o)
}

func (c *countingModule) Decrypt(sh pkcs11.SessionHandle, cipher []byte) ([]byte, error) {
	c.calls.Add(1)
	return c.m.Decrypt(sh, cipher)
}

func (c *countingModule) DecryptUpdate(sh pkcs11.SessionHandle, cipher []byte) ([]byte, error) {
	c.calls.Add(1)
	return c.m.DecryptUpdate(sh, cipher)
}

func (c *countingModule) DecryptFinal(sh pkcs11.SessionHandle) ([]byte, error) {
	c.calls.Add(1)
	return c.m.DecryptFinal(sh)
}

func (c *countingModule) DigestInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism) error {
	c.calls.Add(1)
	return c.m.DigestInit(sh, m)
}

func (c *countingModule) Digest(sh pkcs11.SessionHandle, message []byte) ([]byte, error) {
	c.calls.Add(1)
	return c.m.Digest(sh, message)
}

func (c *countingModule) DigestUpdate(sh pkcs11.SessionHandle, message []byte) error {
	c.calls.Add(1)
	return c.m.DigestUpdate(sh, message)
}

func (c *countingModule) DigestFinal(sh pkcs11.SessionHandle) ([]byte, error) {
	c.calls.Add(1)
	return c.m.DigestFinal(sh)
}

func (c *countingModule) SignInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error {
	c.calls.Add(1)
	return c.m.SignInit(sh, m, o)
}

func (c *countingModule) Sign(sh pkcs11.SessionHandle, message []byte) ([]byte, error) {
	c.calls.Add(1)
	return c.m.Sign(sh, message)
}

func (c *countingModule) SignUpdate(sh pkcs11.SessionHandle, message []byte) error {
	c.calls.Add(1)
	return c.m.SignUpdate(sh, message)
}

func (c *countingModule) SignFinal(sh pkcs11.SessionHandle) ([]byte, error) {
	c.calls.Add(1)
	return c.m.SignFinal(sh)
}

func (c *countingModule) VerifyInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, key pkcs11.ObjectHandle) error {
	c.calls.Add(1)
	return c.m.VerifyInit(sh, m, key)
}

func (c *countingModule) Verify(sh pkcs11.SessionHandle, data []byte, signature []byte) error {
	c.calls.Add(1)
	return c.m.Verify(sh, data, signature)
}

func (c *countingModule) VerifyUpdate(sh pkcs11.SessionHandle, part []byte) error {
	c.calls.Add(1)
	return c.m.VerifyUpdate(sh, part)
}

func (c *countingModule) VerifyFinal(sh pkcs11.SessionHandle, signature []byte) error {
	c.calls.Add(1)
	return c.m.VerifyFinal(sh, signature)
}

func (c *countingModule) GenerateKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, temp []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	c.calls.Add(1)
	return c.m.GenerateKey(sh, m, temp)
}

func (c *countingModule) GenerateKeyPair(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, public, private []*pkcs11.Attribute) (pkcs11.ObjectHandle, pkcs11.ObjectHandle, error) {
	c.calls.Add(1)
	return c.m.GenerateKeyPair(sh, m, public, private)
}

func (c *countingModule) WrapKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, wrappingkey, key pkcs11.ObjectHandle) ([]byte, error) {
	c.calls.Add(1)
	return c.m.WrapKey(sh, m, wrappingkey, key)
}

func (c *countingModule) UnwrapKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, unwrappingkey pkcs11.ObjectHandle, wrappedkey []byte, a []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	c.calls.Add(1)
	return c.m.UnwrapKey(sh, m, unwrappingkey, wrappedkey, a)
}

func (c *countingModule) DeriveKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, basekey pkcs11.ObjectHandle, a []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	c.calls.Add(1)
	return c.m.DeriveKey(sh, m, basekey, a)
}

func (c *countingModule) GenerateRandom(sh pkcs11.SessionHandle, length int) ([]byte, error) {
	c.calls.Add(1)
	return c.m.GenerateRandom(sh, length)
}
