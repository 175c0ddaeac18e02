"""What Strimzi's User Operator does with a ``KafkaUser``, done against a broker of our own: its SCRAM-SHA-512
credential and its ``simple`` authorization's ACLs, created through the admin API of a broker whose operator
listener is a super user (``tools.realservers.KafkaBroker(scram=True)``).

So a test can check the generated users (``services.partners.kafka_users``) on a real broker enforcing ACLs with
KRaft's ``StandardAuthorizer``, the authorizer Strimzi configures for ``authorization: {type: simple}`` on KRaft.
Only what those users use is translated (topic, group, cluster and transactionalId resources, literal and prefix
patterns, allow and deny); anything else is refused, not guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourceType,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

_RESOURCES = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP, "cluster": ResourceType.CLUSTER,
              "transactionalId": ResourceType.TRANSACTIONAL_ID}
_PATTERNS = {"literal": ACLResourcePatternType.LITERAL, "prefix": ACLResourcePatternType.PREFIXED}
_OPERATIONS = {"Read": ACLOperation.READ, "Write": ACLOperation.WRITE, "Create": ACLOperation.CREATE,
               "Delete": ACLOperation.DELETE, "Alter": ACLOperation.ALTER, "Describe": ACLOperation.DESCRIBE,
               "ClusterAction": ACLOperation.CLUSTER_ACTION, "DescribeConfigs": ACLOperation.DESCRIBE_CONFIGS,
               "AlterConfigs": ACLOperation.ALTER_CONFIGS, "IdempotentWrite": ACLOperation.IDEMPOTENT_WRITE,
               "All": ACLOperation.ALL}
_PERMISSIONS = {"allow": ACLPermissionType.ALLOW, "deny": ACLPermissionType.DENY}


def acl_bindings(user: Mapping[str, Any]) -> list[ACL]:
    """The ACLs a KafkaUser's ``spec.authorization.acls`` stand for, for principal ``User:<metadata.name>``."""
    name = str(user["metadata"]["name"])
    authorization = user["spec"].get("authorization") or {}
    if authorization and authorization.get("type") != "simple":
        raise ValueError(f"KafkaUser {name}: only 'simple' authorization is translated")
    bindings: list[ACL] = []
    for rule in authorization.get("acls", []):
        resource = rule["resource"]
        kind = resource["type"]
        if kind not in _RESOURCES:
            raise ValueError(f"KafkaUser {name}: resource type {kind!r} is not translated")
        pattern = _PATTERNS[resource.get("patternType", "literal")]
        resource_name = "kafka-cluster" if kind == "cluster" else str(resource["name"])
        for operation in rule["operations"]:
            bindings.append(ACL(principal=f"User:{name}", host=str(rule.get("host", "*")),
                                operation=_OPERATIONS[operation],
                                permission_type=_PERMISSIONS[rule.get("type", "allow")],
                                resource_pattern=ResourcePattern(_RESOURCES[kind], resource_name, pattern)))
    return bindings


def apply_users(admin: KafkaAdminClient, users: Iterable[Mapping[str, Any]], passwords: Mapping[str, str]) -> None:
    """Create each user's SCRAM-SHA-512 credential (its password from ``passwords``, by user name) and its ACLs,
    as the User Operator would; raises if the broker refuses any of them."""
    users = list(users)
    for user in users:
        if user["spec"]["authentication"]["type"] != "scram-sha-512":
            raise ValueError(f"KafkaUser {user['metadata']['name']}: only scram-sha-512 authentication is translated")
    failed = {name: error for name, error in admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion(str(user["metadata"]["name"]), ScramMechanism.SCRAM_SHA_512,
                                     passwords[str(user["metadata"]["name"])]) for user in users]).items() if error}
    if failed:
        raise RuntimeError(f"SCRAM credentials refused: {failed}")
    bindings = [acl for user in users for acl in acl_bindings(user)]
    if bindings:
        result = admin.create_acls(bindings)
        if result.get("failed"):
            raise RuntimeError(f"ACLs refused: {result['failed']}")
