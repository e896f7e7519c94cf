"""One run: gather, evaluate, choose, plan, store. The only package joining core and adapters."""
