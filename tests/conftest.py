import pytest
from imbalance_study.data.core import fake_study_data

def pytest_configure(config):
    config.addinivalue_line('markers', 'ray: starts a local Ray instance (about 10-30 s); deselect with -m "not ray"')

@pytest.fixture(scope='session')
def fake_data(tmp_path_factory):
    "The folder holding the generated RetinaMNIST the tests train on (`fake_study_data`), written once per session; read only."
    return fake_study_data(tmp_path_factory.mktemp('data'))
