"""Plugins that fail to load; hwb must report them and keep working."""
