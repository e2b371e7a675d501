"""Transports that hand a production order to a photo lab (SFTP first)."""
