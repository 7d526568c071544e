"""Importing this plugin fails, as a plugin with a missing dependency or a typo would."""

raise RuntimeError("hwb-broken-plugin refuses to import")
