<#
.SYNOPSIS
Undoes freeze.ps1: puts every share's access entries back as freeze.ps1 recorded them.

.DESCRIPTION
Runs on a domain-joined Windows host (fsx-migrate sends it through SSM AWS-RunPowerShellScript) and talks to
the file system's Windows Remote PowerShell endpoint (the FSxRemoteAdmin session configuration).

For every recorded share, compares the recorded entries with the share's current ones (Get-FSxSmbShareAccess)
and, for each account whose entries differ:
- Allow: Revoke-FSxSmbShareAccess (if it has an Allow entry now), then Grant-FSxSmbShareAccess with the
  recorded right (the strongest, if several were recorded);
- Deny: Block-FSxSmbShareAccess (if it has no Deny entry now).
Accounts already as recorded are left alone, so running the script twice does no harm. Entries added since
the freeze are left alone. A recorded share that no longer exists is reported, not an error.

Standard output: progress lines, then as the very last line either
    FSXMIGRATE-RESULT {"restored":N,"missing_shares":["..."]}
with "restored" the number of accounts whose entries were put back (0 when all were already as recorded), or
    FSXMIGRATE-ERROR <message>
with exit code 1. See README.md beside this file.

.PARAMETER Endpoint
The file system's Windows Remote PowerShell endpoint (DescribeFileSystems:
WindowsConfiguration.RemoteAdministrationEndpoint), e.g. amznfsxa1b2c3d4.corp.example.com.

.PARAMETER SharesJson
The "shares" array of the FSXMIGRATE-RESULT line freeze.ps1 printed, as JSON:
[{"name":"share","path":"D:\\share","access":[{"account":"Everyone","control":"Allow","right":"Change"}]}]
(the whole RESULT object is accepted too).

.EXAMPLE
.\unfreeze.ps1 -Endpoint amznfsxa1b2c3d4.corp.example.com -SharesJson (Get-Content .\frozen-shares.json -Raw)
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $Endpoint,

    [Parameter(Mandatory = $true)]
    [string] $SharesJson
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

# Straight to stdout: no host formatting that could wrap a long line, and the order of the lines is the
# order of the calls (the RESULT or ERROR line must come last).
function Write-Line([string] $Text) {
    [Console]::Out.WriteLine($Text)
}

# A redirected powershell.exe writes stdout in the OEM code page, which mangles characters outside it; as
# \u escapes the JSON survives any code page.
function ConvertTo-AsciiJson($Value) {
    $json = ConvertTo-Json -InputObject $Value -Compress -Depth 5
    return [regex]::Replace($json, '[^\x00-\x7F]', [System.Text.RegularExpressions.MatchEvaluator] {
            param($m)
            '\u{0:x4}' -f [int][char]$m.Value
        })
}

# Objects from ConvertFrom-Json and from the remote session: a missing property must not stop the script
# under StrictMode. A JSON array comes out as its elements (wrap the call in @()).
function Get-Prop($Object, [string] $Name) {
    if ($null -eq $Object) { return }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) { return }
    $property.Value
}

# The names freeze.ps1 records; the numbers of MSFT_SmbShareAccessControlEntry are accepted too, as the
# current entries may arrive as numbers if the enum type is lost in remoting.
$ControlNames = @{ '0' = 'Allow'; '1' = 'Deny'; 'Allow' = 'Allow'; 'Deny' = 'Deny' }
$RightNames = @{ '0' = 'Full'; '1' = 'Change'; '2' = 'Read'; '3' = 'Custom'
    'Full' = 'Full'; 'Change' = 'Change'; 'Read' = 'Read'; 'Custom' = 'Custom' }
function Get-Name([hashtable] $Names, $Value, [string] $What) {
    $key = ([string]$Value).Trim()
    if ($Names.ContainsKey($key)) { return $Names[$key] }
    throw "unexpected $What '$key'"
}

# Grant-FSxSmbShareAccess gives one right per account; of several recorded Allow entries the one that grants
# the most is what the account could do. Custom cannot be granted (it is no fixed set of rights).
$RightRank = @{ 'Read' = 1; 'Change' = 2; 'Full' = 3 }
function Get-StrongestRight($Rights) {
    $best = $null
    foreach ($r in $Rights) {
        if ($RightRank.ContainsKey($r) -and ($null -eq $best -or $RightRank[$r] -gt $RightRank[$best])) { $best = $r }
    }
    $best
}

function Test-SameRights($A, $B) {
    return ((@($A) | Sort-Object) -join ',') -eq ((@($B) | Sort-Object) -join ',')
}

# The Allow rights of each account, in the order the accounts first appear; account names without regard to case.
function Group-AllowRights($Entries) {
    $byAccount = [System.Collections.Specialized.OrderedDictionary]::new([StringComparer]::OrdinalIgnoreCase)
    foreach ($entry in $Entries) {
        if ($entry.control -ne 'Allow') { continue }
        if (-not $byAccount.Contains($entry.account)) {
            $byAccount[$entry.account] = [System.Collections.Generic.List[string]]::new()
        }
        $byAccount[$entry.account].Add($entry.right)
    }
    , $byAccount
}

$session = $null
$stage = 'reading -SharesJson'
$restored = 0
$missing = [System.Collections.Generic.List[string]]::new()
$lastLine = $null
$exitCode = 0

try {
    # Check the whole record before touching anything: a half-read record would restore half the shares.
    $parsed = ConvertFrom-Json -InputObject $SharesJson
    if ($null -eq $parsed) { throw 'the record is empty (null)' }
    if ($parsed -isnot [array] -and $null -ne $parsed.PSObject.Properties['shares']) { $parsed = $parsed.shares }
    $plan = [System.Collections.Generic.List[object]]::new()
    foreach ($share in @($parsed)) {
        $name = [string](Get-Prop $share 'name')
        if (-not $name) { throw 'a recorded share has no "name"' }
        $entries = [System.Collections.Generic.List[object]]::new()
        foreach ($entry in @(Get-Prop $share 'access')) {
            $account = [string](Get-Prop $entry 'account')
            if (-not $account) { throw "an access entry of share '$name' has no ""account""" }
            $entries.Add(@{
                    account = $account
                    control = Get-Name $ControlNames (Get-Prop $entry 'control') "control of $account on share '$name'"
                    right   = Get-Name $RightNames (Get-Prop $entry 'right') "right of $account on share '$name'"
                })
        }
        $plan.Add(@{ name = $name; entries = $entries })
    }
    Write-Line ("fsx-migrate unfreeze on {0}: {1} shares recorded" -f $Endpoint, $plan.Count)

    # One session for every call: one Kerberos logon instead of one per Invoke-Command. The en-US UI
    # culture avoids the localization error the FSx endpoint gives some clients (FSx troubleshooting guide).
    $stage = "opening an FSxRemoteAdmin session on $Endpoint"
    $session = New-PSSession -ComputerName $Endpoint -ConfigurationName FSxRemoteAdmin `
        -SessionOption (New-PSSessionOption -UICulture 'en-US')

    # The endpoint is a restricted session (the FSx commands and little of the language): each script
    # block is a single FSx command, values go in with $Using: (as in the FSx guide), all logic runs here.
    $stage = 'listing the shares'
    $existing = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
    foreach ($share in @(Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock { Get-FSxSmbShare })) {
        [void]$existing.Add([string](Get-Prop $share 'Name'))
    }

    foreach ($share in $plan) {
        $shareName = $share.name
        if (-not $existing.Contains($shareName)) {
            $missing.Add($shareName)
            Write-Line "Share '$shareName' no longer exists: nothing to restore there"
            continue
        }
        $stage = "reading the access entries of share '$shareName'"
        $current = [System.Collections.Generic.List[object]]::new()
        foreach ($entry in @(Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                    Get-FSxSmbShareAccess -Name $Using:shareName
                })) {
            $current.Add(@{
                    account = [string](Get-Prop $entry 'AccountName')
                    control = Get-Name $ControlNames (Get-Prop $entry 'AccessControlType') "access control type on share '$shareName'"
                    right   = Get-Name $RightNames (Get-Prop $entry 'AccessRight') "access right on share '$shareName'"
                })
        }
        $currentAllow = Group-AllowRights $current
        $putBack = [System.Collections.Generic.List[string]]::new()
        $asRecorded = 0

        $recordedAllow = Group-AllowRights $share.entries
        foreach ($account in $recordedAllow.Keys) {
            $rights = $recordedAllow[$account]
            $now = @()
            if ($currentAllow.Contains($account)) { $now = $currentAllow[$account] }
            if (Test-SameRights $rights $now) { $asRecorded++; continue }
            $right = Get-StrongestRight $rights
            if ($null -eq $right) {
                # Only a Custom entry was recorded, and freeze.ps1 leaves those alone: someone else changed it.
                $putBack.Add("NOT $account (its recorded Custom entry cannot be granted)")
                continue
            }
            $stage = "putting back $right for $account on share '$shareName'"
            if (@($now).Count -gt 0) {
                $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                    Revoke-FSxSmbShareAccess -Name $Using:shareName -AccountName $Using:account -Force
                }
            }
            $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                Grant-FSxSmbShareAccess -Name $Using:shareName -AccountName $Using:account -AccessRight $Using:right -Force
            }
            $restored++
            $putBack.Add("$account ($right)")
        }

        # freeze.ps1 leaves Deny entries alone; one is put back only if it has gone since.
        $deniedNow = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
        foreach ($entry in $current) {
            if ($entry.control -eq 'Deny') { [void]$deniedNow.Add($entry.account) }
        }
        $blocked = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
        foreach ($entry in $share.entries) {
            if ($entry.control -ne 'Deny' -or -not $blocked.Add($entry.account)) { continue }
            $account = $entry.account
            if ($deniedNow.Contains($account)) { $asRecorded++; continue }
            $stage = "putting back the Deny entry of $account on share '$shareName'"
            # Block denies Full; a Deny of less than Full comes back as Full.
            $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                Block-FSxSmbShareAccess -Name $Using:shareName -AccountName $Using:account -Force
            }
            $restored++
            $putBack.Add("$account (Deny)")
        }

        $line = "Share '{0}': " -f $shareName
        if ($putBack.Count -gt 0) { $line += 'put back ' + ($putBack -join ', ') + '; ' }
        $line += "{0} already as recorded" -f $asRecorded
        Write-Line $line
    }

    $result = [ordered]@{ restored = $restored; missing_shares = $missing }
    $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson $result)
}
catch {
    # The error as PowerShell shows it (with the remote computer's name for remoting errors).
    $message = "{0}: {1}" -f $stage, $_.ToString()
    if ($restored -gt 0) { $message += " ($restored entries were put back before the error.)" }
    $message += ' Running unfreeze again is safe: entries already as recorded are left alone.'
    $lastLine = 'FSXMIGRATE-ERROR ' + ($message -replace '\s*[\r\n]+\s*', ' ')
    $exitCode = 1
}
finally {
    if ($null -ne $session) { Remove-PSSession -Session $session -ErrorAction SilentlyContinue }
}

Write-Line $lastLine
[Console]::Out.Flush()
exit $exitCode
