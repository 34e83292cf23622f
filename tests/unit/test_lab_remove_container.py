import docker.errors
import pytest

from lab.docker_lab import remove_container


class Container:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[dict[str, bool]] = []

    def remove(self, **options: bool) -> None:
        self.calls.append(options)
        if self.error:
            raise self.error


def test_removes_forcibly_with_or_without_volumes():
    container = Container()
    remove_container(container)  # type: ignore[arg-type]
    remove_container(container, volumes=True)  # type: ignore[arg-type]
    assert container.calls == [{"force": True, "v": False}, {"force": True, "v": True}]


def test_a_container_already_gone_is_not_an_error_but_other_failures_are():
    remove_container(Container(docker.errors.NotFound("No such container")))  # type: ignore[arg-type]
    with pytest.raises(docker.errors.APIError):
        remove_container(Container(docker.errors.APIError("conflict")))  # type: ignore[arg-type]
