/**
 * English injection rules. Patterns run on the canonical text (lower-case, folded; see normalize.ts), so
 * they need no case or obfuscation variants. A hit is evidence, not a verdict: the trained combiner
 * (model.ts) weighs each family against the classifier and the context.
 */
import { type Rule, rule } from './rule.ts';

// English building blocks.
const DROP =
  "(?:ignore|ignoring|disregard|forget|skip|override|overrule|bypass|drop|abandon|discard|erase|cancel|dismiss|neglect|set aside|throw out|pay no attention to|do not follow|don't follow|stop following|never ?mind)";
const RULESET =
  '(?:instructions?|rules?|guidelines?|directives?|directions|prompts?|constraints?|restrictions?|polic(?:y|ies)|programming|guardrails?|training|orders|commands|filters?|moderation|limitations?|principles|ethics|role|task|context|settings|criteria)';
const OWNED =
  '(?:your|previous|prior|above|earlier|preceding|initial|original|old|all|any|every|existing|current|system|safety|content|these|those|its|their)';
const REVEAL =
  "(?:reveal|show|print|display|output|repeat|tell|give|share|dump|leak|disclose|expose|spell out|quote|copy|write|summari[sz]e|translate|encode|provide|send|paste|recite|what(?:'s| is| are| were))";
const HARM =
  '(?:napalm|meth(?:amphetamine)?|explosives?|bombs?|malware|ransomware|keyloggers?|phishing|exploit code|fake ids?|counterfeit|pick the lock|poison|weapons?|\\/etc\\/shadow|steal(?:ing)?|hack(?:ing)? (?:a|into|the|my)|bypass a paywall|credit card numbers?)';
const AI = '(?:ai|a\\.i\\.|assistant|llm|model|language model|chatbot|bot|agent|summari[sz]er|copilot|gpt)';

export const ENGLISH_RULES: Rule[] = [
  rule('override', 'en.drop-rules', `⟨${DROP}⟩ ~3${OWNED}⟩ ~2${RULESET}⟩`),
  rule(
    'override',
    'en.drop-given',
    `⟨${DROP}⟩ ~2(?:the|my|these) ${RULESET} (?:you|that you) (?:were|have been|got|received)`,
  ),
  rule(
    'override',
    'en.drop-the-rules',
    `⟨${DROP}⟩ the (?:instructions|rules|guidelines|directives|polic(?:y|ies)|guardrails|restrictions|filters)⟩`,
  ),
  rule(
    'override',
    'en.what-you-were-told',
    `⟨(?:whatever|everything|anything|what) you (?:were|have been|'ve been|got) (?:told|given|instructed)⟩`,
  ),
  rule(
    'override',
    'en.what-they-told-you',
    `⟨(?:what|whatever|everything|anything) (?:the \\S+ |they |your \\S+ |others )?(?:told|instructed|taught|programmed|said to) you⟩`,
  ),
  rule(
    'persona',
    'en.roleplay-harm',
    `⟨(?:let's play|pretend|role-?play|act as|imagine|you are my|you're my|in character)⟩.{0,120}⟨${HARM}⟩`,
  ),
  rule(
    'override',
    'en.drop-everything',
    `⟨(?:ignore|disregard|forget) (?:everything|anything|all) (?:above|before|previous|prior|that came before|you (?:were|have been) told)⟩`,
  ),
  rule(
    'override',
    'en.drop-user',
    `⟨(?:ignore|disregard) (?:the|this) (?:user(?:'s)?|question|original request|above)⟩`,
  ),
  rule(
    'override',
    'en.new-rules',
    `⟨(?:new|updated|real|actual|revised|true) (?:instructions?|rules?|directives?|task|orders|system prompt|objective)⟩(?: from \\S+(?: \\S+)?)?\\s*(?:[:\\-]|(?:is|are)⟩)`,
  ),
  rule(
    'override',
    'en.supersede',
    `⟨(?:overrides?|supersedes?|takes? precedence over|replaces?) (?:all|any|every|your) (?:other|previous|prior|earlier)? ?(?:${RULESET}|others)⟩`,
  ),
  rule(
    'override',
    'en.from-now-on',
    `⟨from (?:now on|this moment|this point)⟩,? (?:you(?:'re| are| will| must| can| have| no longer| answer| respond| do)|ignore|forget)⟩`,
  ),
  rule(
    'override',
    'en.void',
    `⟨(?:message|instructions?|prompt|rules|directives|restrictions) (?:is|are|was|were|have been) (?:now )?(?:void|cancelled|canceled|lifted|removed|outdated|obsolete|a test|disabled|off)⟩`,
  ),
  rule(
    'override',
    'en.no-longer-applies',
    `⟨(?:no longer|doesn't|does not|don't|do not) (?:apply|applies|bind|matter)⟩`,
  ),
  rule(
    'override',
    'en.disable-safety',
    `⟨(?:disable|turn off|switch off|deactivate|remove|lift)⟩ ~2(?:safety|moderation|content)? ?(?:filters?|moderation|guardrails?|restrictions|safety|censorship)⟩`,
  ),
  rule(
    'override',
    'en.safety-off',
    `⟨(?:safety|filters?|moderation|restrictions|guardrails) (?:are |is )?(?:off|disabled|lifted|removed)⟩`,
  ),
  rule(
    'override',
    'en.system-override',
    `⟨(?:system|safety|admin|developer|security) override⟩|⟨override\\s*:`,
  ),
  rule(
    'override',
    'en.instead',
    `⟨(?:instead of (?:summari[sz]ing|answering|translating|doing)|stop (?:summari[sz]ing|translating|what you are doing|being an?)|regardless of (?:the )?(?:content|input|question|instructions))⟩`,
  ),
  rule(
    'override',
    'en.only-instruction',
    `⟨(?:your|the) only instruction⟩|⟨follow only (?:the|my) instructions⟩`,
  ),
  rule(
    'persona',
    'en.dan',
    `⟨do anything now⟩|⟨(?:you are|you're|act as|pretend to be|become|stay|activate|as) (?:now )?(?:dan|stan|aim|betterdan|mongo tom|freegpt|dude)⟩|⟨dan (?:mode|\\d)`,
  ),
  rule(
    'persona',
    'en.mode-strong',
    `⟨(?:god|sudo|unfiltered|uncensored|jailbreak|jailbroken|evil|unrestricted|maintenance|dan|chaos) mode⟩`,
  ),
  rule(
    'mode',
    'en.developer-mode',
    `⟨(?:enable|activate|enter|switch (?:in)?to|turn on) (?:the )?(?:developer|dev|debug) mode⟩|⟨(?:developer|dev) mode (?:enabled|activated|on)⟩`,
  ),
  rule(
    'unrestricted',
    'en.no-limits',
    `⟨(?:no|without|free (?:of|from)|zero)⟩ ~1(?:any )?(?:\\S+ )?(?:restrictions?|limits|limitations|filters|censorship|morals|ethics|ethical|moral|content polic(?:y|ies)|safety training|guidelines)⟩`,
  ),
  rule(
    'persona',
    'en.unrestricted-ai',
    `⟨(?:pretend|imagine|act as|role-?play|you are now|you're now|become|simulate|you are an?)⟩ .{0,60}(?:unrestricted|unfiltered|uncensored|evil|jailbroken|liberated|unaligned|no limits|without (?:any )?filters)⟩`,
  ),
  rule(
    'mode',
    'en.character',
    `⟨(?:stay in character|break(?:s|ing)? character|never breaks? character|stay (?:dan|in character))⟩`,
  ),
  rule('persona', 'en.two-personas', `⟨(?:two|2) (?:responses|answers|personalities|ais|modes|versions)⟩`),
  rule(
    'persona',
    'en.never-refuse',
    `⟨(?:never refuses?|must not refuse|no refusals|cannot refuse|without refusing|never say no|answer (?:everything|anything|every question)|must answer)⟩`,
  ),
  rule(
    'persona',
    'en.reversed',
    `⟨(?:opposite day|rules? (?:is|are) reversed|safety training (?:was |has been )?removed|before safety training|exempt from (?:your|the|all) (?:rules|guidelines|policies))⟩`,
  ),
  rule(
    'extraction',
    'en.your-prompt',
    `⟨${REVEAL}⟩ ~4(?:your|its) ~2(?:prompt|pre-?prompt|instructions|system message|developer message|configuration|config|guidelines|rules)⟩`,
  ),
  rule(
    'extraction',
    'en.the-prompt',
    `⟨${REVEAL}⟩ ~4the (?:system|initial|original|hidden|secret|confidential|internal|developer|full|complete|exact|raw) (?:prompt|pre-?prompt|instructions|message|configuration)⟩`,
  ),
  rule(
    'extraction',
    'en.owned-prompt',
    `⟨(?:your (?:system|initial|hidden|original|confidential|secret|developer|internal)|the (?:hidden|initial|original|confidential|secret|internal)) (?:prompt|instructions|message)⟩`,
  ),
  rule('mention', 'en.system-prompt', `⟨(?:system prompt|system message|system instructions|pre-?prompt)⟩`),
  rule(
    'extraction',
    'en.prompt-then-verb',
    `⟨(?:system prompt|(?:hidden|initial|secret|original) (?:prompt|instructions))⟩[\\s:,-]+(?:please )?(?:print|show|reveal|output|repeat|display|dump|leak)⟩`,
  ),
  rule(
    'extraction',
    'en.repeat-above',
    `⟨(?:repeat|print|output|copy) (?:the )?(?:words|text|everything|all|lines) (?:above|before)⟩|⟨starting with (?:the (?:phrase|words) )?['"]?you are⟩`,
  ),
  rule(
    'extraction',
    'en.what-were-you-told',
    `⟨what (?:were|was) you told⟩|⟨(?:rules|instructions|guidelines) you (?:were|have been) given⟩|⟨what (?:are|were) your (?:instructions|rules|guidelines)⟩`,
  ),
  rule(
    'extraction',
    'en.verbatim',
    `⟨(?:verbatim|word for word|word-for-word|letter by letter|exactly as written|exact wording|all of it)⟩`,
  ),
  rule('extraction', 'en.context-window', `⟨(?:context window|conversation history|role ['"]?system['"]?)⟩`),
  rule(
    'indirect',
    'en.note-to-ai',
    `⟨(?:note|message|instructions?|attention|notice|reminder|hidden instruction|p\\.s\\.?)\\s+(?:to|for)\\s+(?:the\\s+|any\\s+|all\\s+)?(?:ai\\s+)?${AI}s?⟩`,
  ),
  rule(
    'indirect',
    'en.if-you-are-ai',
    `⟨(?:if you are|if you're|any|to the|dear|hey|attention)\\s+(?:an?\\s+)?(?:ai\\s+)?${AI}s?⟩(?:\\s+\\S+){0,3}?\\s*(?:reading|processing|summari[sz]ing|screening|reviewing|parsing)⟩`,
  ),
  rule(
    'indirect',
    'en.address-ai',
    `(?:^|[\\s\\[(<{"'#*\\-:./])(?:to the |attention |hey )?(?:ai |ai-)?${AI}(?: reviewer| agents?| note-taker)?\\s*[,:]\\s*(?:ignore|disregard|forget|you|stop|new|the user|do not|don't|please|before|after|instead|include|reveal|print|send|forward|call|run|accept|insert|mark|approve|append|share|delete|your)⟩`,
  ),
  rule('indirect', 'en.when-you-read', `⟨when you (?:read|see|process|summari[sz]e) this⟩`),
  rule(
    'role-tag',
    'tag.markup',
    `<\\/?(?:system|instructions?|admin|im_start|im_end)>|\\[\\/?(?:system|inst|instructions?)\\]|<\\|im_(?:start|end)\\|>|#{2,}\\s*(?:system|instructions?|new instructions?)\\s*#*|\\[\\[`,
  ),
  rule(
    'role-tag',
    'tag.system-colon',
    `(?:^|[\\s.>])(?:system|system message|system note|important system message)(?: to (?:the )?(?:assistant|ai|model))?\\s*:`,
  ),
  rule('role-tag', 'tag.end-of-input', `⟨end of (?:user )?(?:query|input|document|prompt|text|context)⟩`),
  rule('role-tag', 'tag.html-comment', `<!--`),
  rule(
    'hijack',
    'act.exfiltrate',
    `⟨(?:forward|send|email|post|upload|exfiltrate|leak|transfer|wire|append)⟩ .{0,60}⟨(?:to|into)\\s+(?:https?:\\/\\/|[\\w.+-]+@[\\w-]+\\.|(?:the |this )?(?:account|iban|channel|url|attacker))`,
  ),
  rule('hijack', 'act.call-tool', `⟨(?:call|invoke|use|run) (?:the )?[a-z]+_[a-z_]+⟩`),
  rule(
    'hijack',
    'act.shell',
    `⟨(?:run|execute) (?:the )?(?:shell|command|curl|rm\\s+-rf)|curl\\s+\\S+\\s*\\|\\s*(?:sh|bash)⟩|⟨rm\\s+-rf⟩`,
  ),
  rule(
    'hijack',
    'act.behind-user',
    `⟨(?:without|do not|don't|never)\\s+(?:telling|asking|informing|notifying|tell|ask|inform|notify)\\s+(?:the\\s+)?user⟩`,
  ),
  rule(
    'hijack',
    'act.privilege',
    `⟨(?:grant|give)⟩ ~2(?:admin|administrator|root) (?:role|rights|access)⟩|⟨disable branch protection⟩|⟨bypass confirmation⟩`,
  ),
  rule('harmful', 'harm.payload', `⟨${HARM}⟩`),
  rule(
    'authority',
    'auth.claim',
    `⟨(?:i am|i'm) (?:your|the) (?:new )?(?:operator|developer|admin|administrator|creator|owner)⟩|⟨the user (?:is|has been) (?:an? )?(?:administrator|admin|authori[sz]ed|verified|developer)⟩|⟨(?:i|we) authori[sz]e you⟩`,
  ),
  rule(
    'secrets',
    'sec.credentials',
    `⟨(?:admin(?:istrator)? password|secret (?:password|key)|api (?:keys?|token)|environment variables?|credentials|access tokens?)⟩`,
  ),
];
