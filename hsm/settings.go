package hsm

// settings is the part of the configuration the engine uses, copied out of
// config.Config at New so that the engine never reads the config again.
type settings struct {
	Label           string
	StoragePath     string
	Persist         bool
	SlotCount       int
	Serial          string
	MaxSessions     int
	MaxRWSessions   int
	PINMin, PINMax  int
	MaxFailedLogins int
	Iterations      int
	FIPSOnly        bool
	EnablePQC       bool
	AllowSHA1Sign   bool
	AuditEnabled    bool
	AuditPath       string
}

// withDefaults fills zero values with Craton's defaults (reference §11), so
// that a partially filled configuration still gives a working engine.
func (s settings) withDefaults() settings {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if s.Label == "" {
		s.Label = "Craton HSM Token 0"
	}
	if s.Serial == "" {
		s.Serial = "0000000000000001"
	}
	def(&s.SlotCount, 1)
	def(&s.MaxSessions, 100)
	def(&s.MaxRWSessions, 10)
	def(&s.PINMin, 8)
	def(&s.PINMax, 64)
	def(&s.MaxFailedLogins, 10)
	def(&s.Iterations, 600000)
	if s.MaxRWSessions > s.MaxSessions {
		s.MaxRWSessions = s.MaxSessions
	}
	return s
}
