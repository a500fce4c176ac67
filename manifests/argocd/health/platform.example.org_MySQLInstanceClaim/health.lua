-- Argo CD health for idp's claims: platform.example.org/MySQLInstanceClaim,
-- PostgreSQLInstanceClaim and RedisInstanceClaim (argocd-cm keys
-- resource.customizations.health.platform.example.org_<Kind>, one script for all).
--
-- Argo CD waits between sync waves only for resources whose health it can assess, and a
-- claim is Ready before the cloud has applied a change to its write fence. This check
-- keeps the claim Progressing until the fence the cloud reports (status.fence.observed,
-- copied by the Compositions from the provider's atProvider) agrees with
-- spec.parameters.writeFence, so a failover's fence wave (-1) holds its data wave (0).
-- The claims whose XRD takes no writeFence (PostgreSQL, Redis: xrd-postgres.yaml,
-- xrd-redis.yaml say why) are Healthy once Ready.
--
-- Argo CD runs it with gopher-lua (Lua 5.1): plain tables and string functions only.
-- Tested in the idp project by tests/health_lua.rs.

local hs = { status = "Progressing", message = "Waiting for Crossplane to report the claim's status" }

-- The claim kinds whose XRD takes a write fence.
local FENCED = { MySQLInstanceClaim = true }

-- The cloud's own read-only setting, as each provider reports it: RDS parameter
-- read_only ("1"/"0"), Cloud SQL flag read_only ("on"/"off"), OCI databaseMode.
local READ_ONLY = { ["1"] = true, ["ON"] = true, ["TRUE"] = true, ["READ_ONLY"] = true }
local WRITABLE = { ["0"] = true, ["OFF"] = true, ["FALSE"] = true, ["READ_WRITE"] = true }

local function condition(type_name)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == type_name then
      return c
    end
  end
  return nil
end

local function explained(c)
  local text = c.type .. "=" .. tostring(c.status)
  if c.reason ~= nil and c.reason ~= "" then
    text = text .. " (" .. c.reason .. ")"
  end
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Being deleted"
  return hs
end

local synced = condition("Synced")
if synced ~= nil and synced.status == "False" then
  hs.status = "Degraded"
  hs.message = explained(synced)
  return hs
end

local ready = condition("Ready")
if ready == nil then
  return hs
end
if ready.status ~= "True" then
  -- Not Degraded, whatever the reason: a claim's Ready is False with reason Waiting
  -- until its composite is Ready, while the cloud builds the database or applies a
  -- change (crossplane internal/controller/apiextensions/claim/reconciler.go,
  -- Waiting()), and a multi-wave sync fails on a Degraded resource (gitops-engine
  -- pkg/sync/sync_context.go). Argo CD's own check for *.crossplane.io
  -- (resource_customizations/_.crossplane.io/_/health.lua) keeps Ready=False
  -- Progressing too; Synced=False, above, is what is Degraded.
  hs.message = explained(ready)
  return hs
end

if not FENCED[obj.kind] then
  hs.status = "Healthy"
  hs.message = "Ready"
  return hs
end

local want = false
if obj.spec ~= nil and obj.spec.parameters ~= nil and obj.spec.parameters.writeFence == true then
  want = true
end
local wanted = "read-write"
if want then
  wanted = "read-only"
end

local observed = nil
if obj.status.fence ~= nil then
  observed = obj.status.fence.observed
end
if observed == nil then
  hs.message = "Ready, waiting for the cloud to report the write fence (want " .. wanted .. ")"
  return hs
end
local key = string.upper(tostring(observed))
local fenced = nil
if READ_ONLY[key] then
  fenced = true
elseif WRITABLE[key] then
  fenced = false
end
if fenced == nil then
  hs.message = "Ready, but the cloud reports an unknown write fence " .. tostring(observed) .. " (want " .. wanted .. ")"
  return hs
end
if fenced ~= want then
  local now = "read-write"
  if fenced then
    now = "read-only"
  end
  hs.message = "Waiting for the write fence: want " .. wanted .. ", the cloud reports " .. now .. " (" .. tostring(observed) .. ")"
  return hs
end

hs.status = "Healthy"
hs.message = "Ready, and the cloud reports it " .. wanted .. " (" .. tostring(observed) .. ")"
return hs
