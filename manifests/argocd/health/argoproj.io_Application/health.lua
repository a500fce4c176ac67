-- Health of an app's Argo CD Application, as its parent (idp's root Application) sees
-- it. Argo CD stopped assessing argoproj.io/Application in 1.8 (argo-cd
-- docs/operator-manual/health.md, "Argocd App", issue #3781): without this, a child
-- Application counts as healthy once applied, so the root's traffic wave (2) does not
-- wait for the compute it points at (wave 1).
--
-- The parent's sync keeps a wave open while a resource is anything but Healthy or
-- Degraded (gitops-engine pkg/sync/sync_context.go: a running non-hook task succeeds on
-- Healthy, fails on Degraded, and otherwise stays running). So:
--   * a child without automated sync (a cold standby) never syncs by itself: waiting
--     for it would hold the parent's sync open for good, and with it every later commit.
--     It is Healthy here, and not awaited.
--   * a child with automated sync is awaited until it has compared the spec the parent
--     just applied (argo-cd controller/appcontroller.go, needRefreshAppStatus: a
--     spec.source that differs from status.sync.comparedTo triggers the comparison),
--     has synced it, and reports its own health. A failed sync is Degraded.
local hs = {}

-- Deep equality of two decoded JSON values; an absent value equals an empty one.
local function empty(v)
  return v == nil or (type(v) == "table" and next(v) == nil)
end
local function same(a, b)
  if empty(a) and empty(b) then
    return true
  end
  if type(a) ~= "table" or type(b) ~= "table" then
    return a == b
  end
  for k, v in pairs(a) do
    if not same(v, b[k]) then
      return false
    end
  end
  for k, v in pairs(b) do
    if a[k] == nil and not empty(v) then
      return false
    end
  end
  return true
end

local spec = obj.spec or {}
local automated = spec.syncPolicy ~= nil and spec.syncPolicy.automated ~= nil
if automated and spec.syncPolicy.automated.enabled == false then
  automated = false
end
if not automated then
  hs.status = "Healthy"
  hs.message = "no automated sync: applied, not awaited"
  return hs
end

local status = obj.status or {}
local sync = status.sync or {}
local compared = sync.comparedTo
if compared == nil
  or not same(spec.source, compared.source)
  or not same(spec.sources, compared.sources)
  or not same(spec.destination, compared.destination) then
  hs.status = "Progressing"
  hs.message = "waiting for the Application to compare its current spec"
  return hs
end

if sync.status ~= "Synced" then
  local operation = status.operationState
  if operation ~= nil and (operation.phase == "Failed" or operation.phase == "Error") then
    hs.status = "Degraded"
    hs.message = operation.message or ("sync " .. operation.phase)
    return hs
  end
  hs.status = "Progressing"
  hs.message = "waiting for the automated sync (" .. tostring(sync.status) .. ")"
  return hs
end

hs.status = "Progressing"
hs.message = "waiting for the Application's own health"
if status.health ~= nil and status.health.status ~= nil then
  hs.status = status.health.status
  hs.message = status.health.message or ""
end
return hs
