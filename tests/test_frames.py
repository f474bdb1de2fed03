"""The locations a stack trace or a compiler error names, in the formats users paste."""

from __future__ import annotations

import pytest

from lsp_server.engine.frames import Frame, parse_frames


@pytest.mark.parametrize(
    ("trace", "first"),
    [
        (
            'Traceback (most recent call last):\n  File "app/main.py", line 3, in <module>\n'
            '  File "http/client.py", line 42, in fetch\nValueError: boom\n',
            Frame("http/client.py", 42, "fetch"),  # Python's innermost frame is its last
        ),
        (
            "java.lang.IllegalStateException: closed\n"
            "\tat expo.modules.camera.CameraView.takePicture(CameraView.kt:118)\n"
            "\tat expo.modules.camera.CameraModule.definition(CameraModule.kt:40)\n",
            Frame("CameraView.kt", 118, "expo.modules.camera.CameraView.takePicture"),
        ),
        (
            "Fatal error: Index out of range: file Shop/Cart.swift, line 42\n",
            Frame("Shop/Cart.swift", 42),
        ),
        (
            "Thread 0 Crashed:\n"
            "0   libswiftCore.dylib  0x00000001a2b3 _assertionFailure + 156\n"
            "1   Shop                0x0000000104a8 Cart.total(for:) + 120 (Cart.swift:42)\n"
            "2   Shop                0x0000000104c0 CartView.body.getter + 64"
            " (CartView.swift:17)\n",
            Frame("Cart.swift", 42, "Cart.total"),
        ),
        (
            "/Users/me/Shop/Sources/Cart.swift:42:13: error: cannot find 'total' in scope\n",
            Frame("/Users/me/Shop/Sources/Cart.swift", 42),
        ),
    ],
)
def test_the_innermost_frame_comes_first(trace: str, first: Frame) -> None:
    assert parse_frames(trace)[0] == first


def test_a_swift_crash_report_lists_each_frame_once_in_order() -> None:
    trace = (
        "1   Shop  0x0000000104a8 Cart.total(for:) + 120 (Cart.swift:42)\n"
        "2   Shop  0x0000000104c0 CartView.body.getter + 64 (CartView.swift:17)\n"
        "3   Shop  0x0000000104c0 CartView.body.getter + 64 (CartView.swift:17)\n"
    )
    assert [(f.path, f.line) for f in parse_frames(trace)] == [
        ("Cart.swift", 42),
        ("CartView.swift", 17),
    ]
