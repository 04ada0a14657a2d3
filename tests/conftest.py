def pytest_configure(config):
    config.addinivalue_line('markers', 'ray: starts a local Ray instance (about 10-30 s); deselect with -m "not ray"')
