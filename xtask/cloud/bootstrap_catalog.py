"""Idempotently creates the Keystone objects the local test cloud needs.

Run by `cargo xtask cloud up` with the server venv's Python (requests comes with
keystoneauth1). Arguments: keystone_url glance_url admin_password glance_password
demo_password. Every object is looked up first and created only when missing;
endpoint URLs are corrected when a port changed.
"""

import sys

import requests

keystone, glance, glance_alt, admin_pw, glance_pw, demo_pw = sys.argv[1:7]
API = keystone.rstrip("/") + "/v3"


def token():
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "admin",
                        "domain": {"id": "default"},
                        "password": admin_pw,
                    }
                },
            },
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }
    r = requests.post(API + "/auth/tokens", json=body, timeout=60)
    r.raise_for_status()
    return r.headers["X-Subject-Token"]


S = requests.Session()
S.headers["X-Auth-Token"] = token()


def call(method, path, **kw):
    r = S.request(method, API + path, timeout=60, **kw)
    if r.status_code >= 400:
        sys.exit(f"{method} {path}: {r.status_code} {r.text}")
    return r.json() if r.content else None


def ensure(kind, plural, query, body):
    found = call("GET", f"/{plural}", params=query)[plural]
    if found:
        return found[0]
    return call("POST", f"/{plural}", json={kind: body})[kind]


def role_id(name):
    return call("GET", "/roles", params={"name": name})["roles"][0]["id"]


service_project = ensure(
    "project", "projects", {"name": "service"},
    {"name": "service", "domain_id": "default", "description": "Service project"},
)
demo_project = ensure(
    "project", "projects", {"name": "demo"},
    {"name": "demo", "domain_id": "default", "description": "Demo project"},
)

for name, pw, project, role in (
    ("glance", glance_pw, service_project, "service"),
    ("demo", demo_pw, demo_project, "member"),
):
    user = ensure(
        "user", "users", {"name": name, "domain_id": "default"},
        {"name": name, "domain_id": "default", "password": pw, "default_project_id": project["id"]},
    )
    # Keep the password in step with the configuration.
    call("PATCH", f"/users/{user['id']}", json={"user": {"password": pw}})
    call("PUT", f"/projects/{project['id']}/users/{user['id']}/roles/{role_id(role)}")
    if name == "glance":
        # Glance reads unified limits (oslo.limit) with a system-scoped reader token.
        call("PUT", f"/system/users/{user['id']}/roles/{role_id('reader')}")

# Re-hash the admin password with the configured (cheap) rounds too.
admin_user = call("GET", "/users", params={"name": "admin", "domain_id": "default"})["users"][0]
call("PATCH", f"/users/{admin_user['id']}", json={"user": {"password": admin_pw}})
import time
time.sleep(1.1)  # a password change revokes the tokens issued in the same second
S.headers["X-Auth-Token"] = token()

if not call("GET", "/regions", params={})["regions"] or not any(
    r["id"] == "RegionTwo" for r in call("GET", "/regions")["regions"]
):
    call("POST", "/regions", json={"region": {"id": "RegionTwo", "description": "Second region (same Glance)"}})

service = ensure(
    "service", "services", {"type": "image"},
    {"name": "glance", "type": "image", "description": "OpenStack Image service", "enabled": True},
)

# Every region/interface gets its own URL (all reaching the one Glance: RegionTwo through
# nginx on another port), so a client that picks the wrong endpoint is caught. Glance's
# glance-download appends `/v2/...` to the RegionTwo public URL itself: a bare root there.
other_host = glance_alt
wanted = {
    ("RegionOne", "public"): glance,
    ("RegionOne", "internal"): glance + "/v2",
    ("RegionOne", "admin"): glance + "/v2/",
    ("RegionTwo", "public"): other_host,
    ("RegionTwo", "internal"): other_host + "/v2",
}
existing = call("GET", "/endpoints", params={"service_id": service["id"]})["endpoints"]
for (region, interface), url in wanted.items():
    match = [e for e in existing if e["region_id"] == region and e["interface"] == interface]
    if match:
        if match[0]["url"] != url:
            call("PATCH", f"/endpoints/{match[0]['id']}", json={"endpoint": {"url": url}})
    else:
        call("POST", "/endpoints", json={"endpoint": {
            "service_id": service["id"], "interface": interface,
            "region_id": region, "url": url, "enabled": True,
        }})
# Unified limits for Glance, registered so that `use_keystone_limits = true` in
# glance-api.conf is all it takes to try them (off by default: slow, see there). Generous,
# so no test would be refused.
LIMITS = {
    "image_size_total": 1_000_000,  # MiB
    "image_stage_total": 1_000_000,  # MiB
    "image_count_total": 100_000,
    "image_count_uploading": 1_000,
}
existing = call("GET", "/registered_limits", params={"service_id": service["id"]})["registered_limits"]
for resource, limit in LIMITS.items():
    match = [r for r in existing if r["resource_name"] == resource and r.get("region_id") == "RegionOne"]
    if match:
        if match[0]["default_limit"] != limit:
            call("PATCH", f"/registered_limits/{match[0]['id']}",
                 json={"registered_limit": {"default_limit": limit}})
    else:
        call("POST", "/registered_limits", json={"registered_limits": [{
            "service_id": service["id"], "region_id": "RegionOne",
            "resource_name": resource, "default_limit": limit,
        }]})
print("catalog ready")
