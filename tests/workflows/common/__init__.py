import pytest

# The runtime contract's assertions live outside test modules: have pytest explain them too.
pytest.register_assert_rewrite("tests.workflows.common.runtime_contract")
