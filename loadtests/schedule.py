"""The load's schedule: each user starts a request every PACE_S seconds (Locust's constant pacing), so a stalled
service shows as requests that came due while a user waited, not only as fewer requests (coordinated omission)."""

PACE_S = 0.15  # 20 users -> about 133 requests/s intended, near what the closed-loop load of before achieved
MIN_PACE_S = 0.01
MAX_PACE_S = 60.0
