from tests.support.replay import StartReplay

__all__ = ["StartReplay"]
