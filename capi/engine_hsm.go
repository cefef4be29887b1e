package main

import (
	"github.com/craton-co/craton/hsm"
	"github.com/craton-co/craton/hsm/config"
	"github.com/miekg/pkcs11"
)

// hsmBackend is the embedded engine with GetAttributeValueDetailed adapted
// to the C layer's per-attribute results.
type hsmBackend struct{ *hsm.Ctx }

func (b hsmBackend) attrsDetailed(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle, types []uint) ([]attrResult, error) {
	res, err := b.GetAttributeValueDetailed(sh, oh, types)
	if err != nil {
		return nil, err
	}
	out := make([]attrResult, len(res))
	for i, r := range res {
		out[i] = attrResult{Value: r.Value, RV: r.RV}
	}
	return out, nil
}

func init() {
	newBackend = func() (backend, error) {
		// The CLI's configuration: $CRATON_HSM_CONFIG, else
		// ./craton_hsm.yaml, else defaults.
		cfg, _, err := config.Load("")
		if err != nil {
			return nil, err
		}
		if hsm.ModulePath == "" {
			hsm.ModulePath = selfPath()
		}
		return hsmBackend{hsm.New(cfg)}, nil
	}
}
