-- Health of an app's Argo CD Application, as its parent (idp's root Application) sees
-- it. Argo CD stopped assessing argoproj.io/Application in 1.8 (argo-cd
-- docs/operator-manual/health.md, "Argocd App", issue #3781): without this, a child
-- Application counts as healthy once applied, so the root's traffic wave (2) does not
-- wait for the compute it points at (wave 1). With it, the child reports its own health:
-- Progressing until its controller has assessed it, then what the controller says.
local hs = {}
hs.status = "Progressing"
hs.message = "waiting for the Application's own health"
if obj.status ~= nil and obj.status.health ~= nil and obj.status.health.status ~= nil then
  hs.status = obj.status.health.status
  hs.message = ""
  if obj.status.health.message ~= nil then
    hs.message = obj.status.health.message
  end
end
return hs
