package sim

import "github.com/wraft/wraft/engine"

// NativeFactory builds the engine linked into this binary: engine.New.
func NativeFactory(cfg engine.Config, r engine.Restored) (engine.Core, error) {
	e, err := engine.New(cfg, r)
	if err != nil {
		return nil, err
	}
	return e, nil
}
