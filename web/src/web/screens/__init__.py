"""The screens of the web app: each subpackage exposes `router` and `nav`, found at start."""
