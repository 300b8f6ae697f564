"""The model behind its HTTP stack: prompt, client, re-ask loop, cache, cassettes, retries.

The only layer that talks to the network (through ``network``), and the only
one that knows a provider's wire format. Imports ``extractor.read`` (the
document a prompt is built from), the schemas, settings and exceptions; never
grounding, normalisation or the writers.
"""
